from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class QueuesConfig(AppConfig):
    name = "apps.queues"
    label = "queues"
    verbose_name = "Queues"

    def ready(self):
        from apps.queues import flows, realtime  # noqa: F401  (registrations)
        from apps.queues.models import QueueMember
        from apps.queues.services import dispatch, offers  # noqa: F401  (status listener, command hooks)

        # An agent added to or removed from a queue: their open sockets
        # reconnect and follow the queues they serve now. (Not on every save:
        # round robin stamps a membership at each offer.)
        post_save.connect(_membership_saved, sender=QueueMember, dispatch_uid="queues.sockets_member_added")
        post_delete.connect(_membership_deleted, sender=QueueMember, dispatch_uid="queues.sockets_member_removed")


def _membership_saved(sender, instance, created, **kwargs):
    if created:
        _recheck(instance)


def _membership_deleted(sender, instance, **kwargs):
    _recheck(instance)


def _recheck(membership):
    from apps.agents.models import Agent
    from apps.core.realtime import user_sockets_recheck_on_commit

    user_id = Agent.objects.filter(pk=membership.agent_id).values_list("user_id", flat=True).first()
    if user_id:
        user_sockets_recheck_on_commit(user_id)
