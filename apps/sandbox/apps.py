from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The Telnyx sandbox: no models, only the ``telnyx_sandbox`` command."""

    name = "apps.sandbox"
    label = "sandbox"
    verbose_name = "Telnyx sandbox"
