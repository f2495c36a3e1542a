from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.core.discovery import project_modules
from apps.core.roles import roles_sync


def demo_modules():
    """Every project app's ``demo`` module (seed(), sandbox_numbers(), sandbox_destinations(), simulated_calls())."""
    return project_modules("demo")


class Command(BaseCommand):
    help = "Create the demo data (logins, numbers, and what other apps add). Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="seed even a production-shaped database")

    @transaction.atomic
    def handle(self, *args, force=False, **options):
        # The demo logins share one well-known password: never slip them into
        # a real center because someone ran the demo against its database.
        if not (settings.EMBEDDED or settings.DEBUG or force):
            raise CommandError(
                "The demo data adds logins with a well-known password. It is seeded on embedded defaults "
                "(no DATABASE_URL) or with DEBUG=true; use --force to seed this database anyway."
            )
        roles_sync()
        for module in demo_modules():
            if hasattr(module, "seed"):
                for line in module.seed() or []:
                    self.stdout.write(line)
