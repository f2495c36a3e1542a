from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "apps.agents"
    label = "agents"
    verbose_name = "Agents"

    def ready(self):
        from apps.agents import realtime  # noqa: F401  (websocket groups and checks)
