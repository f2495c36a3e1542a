from django.apps import AppConfig


class TelnyxConfig(AppConfig):
    name = "apps.telnyx"
    label = "telnyx"
    verbose_name = "Telnyx"
