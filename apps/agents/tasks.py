"""Celery tasks of agents."""

from celery import shared_task


@shared_task(name="apps.agents.tasks.agent_wrap_up_end", acks_late=True, ignore_result=True)
def agent_wrap_up_end_task(agent_id: int) -> bool:
    """Scheduled for the end of an agent's wrap-up; it re-checks the time, so running early or twice is harmless."""
    from apps.queues.services.offers import agent_wrap_up_end

    return agent_wrap_up_end(agent_id=agent_id)
