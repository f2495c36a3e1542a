from django.apps import AppConfig


class IvrConfig(AppConfig):
    name = "apps.ivr"
    label = "ivr"
    verbose_name = "IVRs"

    def ready(self):
        from apps.ivr import engine  # noqa: F401  (route and flow registrations)
