from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.core.roles import roles_sync


def demo_modules():
    """Every installed project app's ``demo`` module, in INSTALLED_APPS order."""
    for config in apps.get_app_configs():
        if config.name.startswith("apps."):
            try:
                yield import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise


class Command(BaseCommand):
    help = "Create the demo data (logins, numbers, and what other apps add). Safe to run twice."

    @transaction.atomic
    def handle(self, *args, **options):
        roles_sync()
        for module in demo_modules():
            if hasattr(module, "seed"):
                for line in module.seed() or []:
                    self.stdout.write(line)
