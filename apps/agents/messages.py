"""The shape of every live message about agents, built in one place."""

from apps.agents.models import Agent


def agent_summary(agent: Agent) -> dict:
    return {
        "id": agent.pk,
        "username": agent.user.get_username(),
        "name": agent.name,
        "status": agent.status,
        "status_label": agent.get_status_display(),
        "status_reason": agent.status_reason,
        "status_changed_at": agent.status_changed_at,
        "idle_since": agent.idle_since,
        "endpoint": agent.endpoint,
        "version": agent.version,
    }


def agent_presence(agent: Agent) -> dict:
    """What colleagues see of an agent: whether they are free (the transfer list), not why or with whom."""
    return {
        "id": agent.pk,
        "name": agent.name,
        "status": agent.status,
        "status_label": agent.get_status_display(),
        "version": agent.version,
    }


class AgentMessages:
    @staticmethod
    def agent_updated(agent: Agent) -> dict:
        return {"type": "agent.updated", "version": agent.version, "agent": agent_summary(agent)}

    @staticmethod
    def agent_presence(agent: Agent) -> dict:
        return {"type": "agent.presence", "version": agent.version, "agent": agent_presence(agent)}
