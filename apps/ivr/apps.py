from django.apps import AppConfig


class IvrConfig(AppConfig):
    name = "apps.ivr"
    label = "ivr"
    verbose_name = "IVRs"
