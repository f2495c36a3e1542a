"""Reading agents."""

from apps.agents.models import Agent


def agent_phone_for(user) -> str:
    """What rings when ``user`` wants their own phone rung (their agent endpoint; '' if none)."""
    agent = Agent.objects.filter(user_id=getattr(user, "pk", None)).first()
    return agent.dial_target if agent else ""
