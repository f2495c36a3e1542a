from django.core.management.base import BaseCommand
from django.db import transaction

from apps.core.discovery import project_modules
from apps.core.roles import roles_sync


def demo_modules():
    """Every project app's ``demo`` module (seed(), sandbox_numbers(), sandbox_destinations(), simulated_calls())."""
    return project_modules("demo")


class Command(BaseCommand):
    help = "Create the demo data (logins, numbers, and what other apps add). Safe to run twice."

    @transaction.atomic
    def handle(self, *args, **options):
        roles_sync()
        for module in demo_modules():
            if hasattr(module, "seed"):
                for line in module.seed() or []:
                    self.stdout.write(line)
