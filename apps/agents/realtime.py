"""What an agent's websocket joins: their own group and colleagues' presence; who may watch an agent."""

from apps.agents.models import Agent
from apps.core.realtime import AGENTS, agent_group, register_group_provider, register_subscription_check
from apps.core.roles import Role, user_can


@register_group_provider
def own_agent_group(user) -> set[str]:
    if not user_can(user, Role.AGENT):
        return set()
    agent_id = Agent.objects.filter(user=user).values_list("pk", flat=True).first()
    return {agent_group(agent_id), AGENTS} if agent_id else set()


@register_subscription_check("agent")
def may_watch_agent(user, agent_id: int) -> bool:
    """Supervisors watch any agent; an agent only themselves, never a colleague."""
    if user_can(user, Role.SUPERVISOR):
        return Agent.objects.filter(pk=agent_id).exists()
    return user_can(user, Role.AGENT) and Agent.objects.filter(pk=agent_id, user=user).exists()
