"""Live updates of queues and offers, and what a websocket may join.

An agent's socket joins the groups of the queues they serve (waiting counts
for the workspace); supervisors may subscribe to any ``queue-{id}``, agents
only to the queues they serve. The snapshot sent on connect holds the
agent's workspace state (status, queues, the call on screen).
"""

from django.db.models import Q

from apps.calls.models import Call
from apps.calls.services import register_call_groups
from apps.core.db import on_commit_gathered
from apps.core.realtime import (
    SUPERVISORS,
    agent_group,
    publish_on_commit,
    publish_rollback_unsafe,
    queue_group,
    register_group_provider,
    register_snapshot_provider,
    register_subscription_check,
)
from apps.core.roles import Role, user_can
from apps.queues.messages import OfferMessages, QueueMessages
from apps.queues.models import Offer, Queue, QueueMember


# --- Publishing ---------------------------------------------------------------------
def queue_publish_on_commit(*queue_ids: int) -> None:
    """Publish fresh figures of these queues once the transaction commits.

    The figures are counted after the commit, not now: a count taken inside
    a transaction misses what concurrent transactions are committing, and
    the last message a board gets must be right. So a transaction publishes
    each queue once, however many of its changes touch it (an agent ringing
    and the caller offered, say): later calls join the pending publish.
    """
    ids = {pk for pk in queue_ids if pk}
    if ids:
        on_commit_gathered(queue_publish_rollback_unsafe, ids)


def queue_publish_rollback_unsafe(queue_ids) -> None:
    from apps.queues.selectors import queue_stats

    for queue in Queue.objects.filter(pk__in=queue_ids):
        message = QueueMessages.queue_updated(queue_stats(queue))
        publish_rollback_unsafe(queue_group(queue.pk), message)
        publish_rollback_unsafe(SUPERVISORS, message)


def offer_publish(offer: Offer, *, card: bool = False) -> None:
    """The offer changed: bump its version and tell its agent and supervisors.

    The call card (who calls, their IVR path, their previous calls) does not
    change during a call: it goes with the first message of an offer
    (``card=True``) and in snapshots; later deltas leave it out and the
    workspace keeps the one it has.
    """
    offer.version += 1
    Offer.objects.filter(pk=offer.pk).update(version=offer.version)
    message = OfferMessages.offer_updated(offer, card=card)
    publish_on_commit(agent_group(offer.agent_id), message)
    publish_on_commit(SUPERVISORS, {**message, "offer": {**message["offer"], "card": None}})


@register_call_groups
def call_groups_of_agents(call: Call) -> set[str]:
    """A queued caller's or an agent leg's changes also reach the agents whose screen shows the call."""
    from apps.queues.services.entries import FLOW
    from apps.queues.services.offers import AGENT_FLOW

    if call.flow not in (FLOW, AGENT_FLOW):
        return set()
    offers = Offer.objects.filter(Q(customer_call=call) | Q(agent_call=call), status__in=Offer.LIVE)
    return {agent_group(agent_id) for agent_id in offers.values_list("agent_id", flat=True)}


# --- What a socket joins and sees ----------------------------------------------------------
@register_group_provider
def queue_groups(user) -> set[str]:
    agent = getattr(user, "agent", None) if user_can(user, Role.AGENT) else None
    if agent is None:
        return set()
    return {queue_group(pk) for pk in QueueMember.objects.filter(agent=agent).values_list("queue_id", flat=True)}


@register_subscription_check("queue")
def may_watch_queue(user, queue_id: int) -> bool:
    if user_can(user, Role.SUPERVISOR):
        return Queue.objects.filter(pk=queue_id).exists()
    return user_can(user, Role.AGENT) and QueueMember.objects.filter(queue_id=queue_id, agent__user=user).exists()


@register_snapshot_provider
def workspace_snapshot(user) -> dict:
    from apps.agents.models import Agent
    from apps.queues.selectors import agent_workspace, queue_stats

    snapshot = {}
    agent = Agent.objects.filter(user=user).select_related("user").first() if user_can(user, Role.AGENT) else None
    if agent is not None:
        snapshot["workspace"] = agent_workspace(agent)
    if user_can(user, Role.SUPERVISOR):
        snapshot["queues"] = [queue_stats(queue) for queue in Queue.objects.all()]
    return snapshot
