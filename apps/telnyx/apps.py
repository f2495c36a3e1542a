from django.apps import AppConfig


class TelnyxConfig(AppConfig):
    name = "apps.telnyx"
    label = "telnyx"
    verbose_name = "Telnyx"

    def ready(self):
        from apps.telnyx import checks  # noqa: F401  (registers the settings check)
