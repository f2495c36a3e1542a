from django.apps import AppConfig


class NumbersConfig(AppConfig):
    name = "apps.numbers"
    label = "numbers"
    verbose_name = "Numbers"

    def ready(self):
        from apps.numbers import forward  # noqa: F401  (the forward route and flow)
