from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        # After every migrate, so permissions of models added later reach the groups.
        post_migrate.connect(_roles_sync_after_migrate, dispatch_uid="core.roles_sync")


def _roles_sync_after_migrate(sender, **kwargs):
    from apps.core.roles import roles_sync

    roles_sync()
