from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    label = "analytics"
    verbose_name = "Call log and analytics"

    def ready(self):
        from apps.analytics import handlers  # noqa: F401  (registrations)
