from django.apps import AppConfig


class RecordingsConfig(AppConfig):
    name = "apps.recordings"
    label = "recordings"
    verbose_name = "Recordings"

    def ready(self):
        from apps.recordings import handlers  # noqa: F401  (registrations)
