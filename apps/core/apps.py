from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_migrate, post_save


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from django.contrib.auth import get_user_model

        # After every migrate, so permissions of models added later reach the groups.
        post_migrate.connect(_roles_sync_after_migrate, dispatch_uid="core.roles_sync")
        # A socket's groups are decided when it connects; when what a user may
        # see changes, their open sockets reconnect and are decided afresh.
        user_model = get_user_model()
        user_logged_out.connect(_user_logged_out, dispatch_uid="core.sockets_logout")
        m2m_changed.connect(_user_roles_changed, sender=user_model.groups.through, dispatch_uid="core.sockets_roles")
        post_save.connect(_user_saved, sender=user_model, dispatch_uid="core.sockets_user")


def _roles_sync_after_migrate(sender, **kwargs):
    from apps.core.roles import roles_sync

    roles_sync()


def _user_logged_out(sender, request, user, **kwargs):
    if user is not None:
        from apps.core.realtime import user_sockets_recheck_on_commit

        user_sockets_recheck_on_commit(user.pk)


def _user_roles_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("post_"):
        return
    from apps.core.realtime import user_sockets_recheck_on_commit

    user_pks = (pk_set or ()) if reverse else [instance.pk]
    for pk in user_pks:
        user_sockets_recheck_on_commit(pk)


def _user_saved(sender, instance, created, update_fields, **kwargs):
    if created or (update_fields and set(update_fields) <= {"last_login"}):
        return  # a new login, or one that just logged in, has no socket to recheck
    from apps.core.realtime import user_sockets_recheck_on_commit

    user_sockets_recheck_on_commit(instance.pk)
