"""Find a module by name in every project app (``apps.<app>.demo``, ``apps.<app>.nav``).

Lets each app contribute demo data, navigation and simulated calls from its
own package instead of every feature editing one central list.
"""

from importlib import import_module

from django.apps import apps


def project_modules(name: str):
    """Each installed ``apps.*`` app's ``name`` module, in INSTALLED_APPS order."""
    for config in apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        try:
            yield import_module(f"{config.name}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.{name}":
                raise
