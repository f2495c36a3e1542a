from django.apps import AppConfig


class QueuesConfig(AppConfig):
    name = "apps.queues"
    label = "queues"
    verbose_name = "Queues"

    def ready(self):
        from apps.queues import flows, realtime  # noqa: F401  (registrations)
        from apps.queues.services import dispatch, offers  # noqa: F401  (status listener, command hooks)
