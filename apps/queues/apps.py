from django.apps import AppConfig


class QueuesConfig(AppConfig):
    name = "apps.queues"
    label = "queues"
    verbose_name = "Queues"

    def ready(self):
        from apps.queues import flows  # noqa: F401  (registrations)
