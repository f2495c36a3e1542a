from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "apps.calls"
    label = "calls"
    verbose_name = "Calls"

    def ready(self):
        from apps.calls import greeting, handlers, realtime  # noqa: F401  (registrations)
