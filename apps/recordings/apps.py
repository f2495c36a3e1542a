from django.apps import AppConfig


class RecordingsConfig(AppConfig):
    name = "apps.recordings"
    label = "recordings"
    verbose_name = "Recordings and voicemail"

    def ready(self):
        # Registrations: webhook handlers, the call-back flow, the access rule.
        from apps.recordings import handlers  # noqa: F401
        from apps.recordings.voicemail import callback, selectors  # noqa: F401
        from apps.recordings.voicemail import handlers as voicemail_handlers  # noqa: F401
