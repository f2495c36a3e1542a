"""Flows of queued calls: the caller (``queue``), agents' legs (``agent``), call-backs, transfers;
the queue route and the agent route (a direct line to one agent)."""

from __future__ import annotations

from apps.agents.models import Agent
from apps.calls.flows import register_flow
from apps.calls.greeting import FLOW as GREETING_FLOW
from apps.calls.inbound import register_route
from apps.calls.models import Call
from apps.calls.services import call_answer, call_log, call_reject, call_set_flow
from apps.numbers.models import PhoneNumber
from apps.queues.models import Queue
from apps.queues.services.customer import CALLBACK_FLOW, callback_leg_event, customer_event
from apps.queues.services.entries import FLOW, queue_enter
from apps.queues.services.offers import AGENT_FLOW, agent_leg_event
from apps.queues.services.transfers import TRANSFER_FLOW, transfer_leg_event
from apps.telnyx.events import WebhookEvent

ROUTE_FLOW = "queue_route"
NOBODY_FOR_AGENT = "Sorry, {name} cannot take your call right now, and nobody else is available. " \
                   "Please try again later. Goodbye."


@register_flow(FLOW)
def queue_flow(call: Call, event: WebhookEvent) -> None:
    """A caller waiting in (or taken from) a queue."""
    customer_event(call, event)


@register_flow(AGENT_FLOW)
def agent_flow(call: Call, event: WebhookEvent) -> None:
    """An agent's phone rung for a caller."""
    agent_leg_event(call, event)


@register_flow(CALLBACK_FLOW)
def callback_flow(call: Call, event: WebhookEvent) -> None:
    """A caller being called back, with the agent already on the line."""
    callback_leg_event(call, event)


@register_flow(TRANSFER_FLOW)
def transfer_flow(call: Call, event: WebhookEvent) -> None:
    """A number a caller is being transferred to."""
    transfer_leg_event(call, event)


@register_route(PhoneNumber.Route.QUEUE)
def queue_route(call: Call, number: PhoneNumber, event: WebhookEvent) -> None:
    """A number routed straight to a queue: answer, then enqueue once answered."""
    if number.queue_id is None:
        call_log(call=call, kind="rejected", data={"reason": "queue route without a queue"})
        call_reject(call=call)
        return
    call_set_flow(call=call, flow=ROUTE_FLOW, state={"queue": number.queue_id, "priority": number.queue_priority})
    call_answer(call=call, client_state={"flow": ROUTE_FLOW}, key="queue-route:answer")


@register_route(PhoneNumber.Route.AGENT)
def agent_route(call: Call, number: PhoneNumber, event: WebhookEvent) -> None:
    """A number routed to one agent: a direct line that rings that agent like a queue call.

    The caller is answered and waits in a queue (hearing its hold audio or
    message) offered to the agent only, so the agent's phone rings through
    the usual offer, dial and conference, shows up on their workspace and
    can be transferred like any call. Where the caller waits, and goes if the
    agent cannot take them: the number's queue if one is set, otherwise the
    agent's own first queue (the one they serve at the best priority).
    Agents have no voicemail box of their own; a queue is where someone else
    can still answer (or its overflow, voicemail included, takes over). The
    agent has the queue's ring timeout: one away or offline is not waited
    for at all, a busy one for that long, and a ring that goes unanswered
    hands the caller to the queue at once (see ``entry_target_until``).

    With no queue at all (the agent serves none and the number names none),
    the caller hears that nobody can take the call, rather than being
    rejected unanswered.
    """
    agent = Agent.objects.filter(pk=number.agent_id).select_related("user").first() if number.agent_id else None
    queue = agent_route_queue(number=number, agent=agent)
    if queue is None:
        name = agent.name if agent else "the person you called"
        call_log(call=call, kind="agent_route.no_queue", data={"agent": agent.pk if agent else None})
        call_set_flow(call=call, flow=GREETING_FLOW, state={"text": NOBODY_FOR_AGENT.format(name=name)})
        call_answer(call=call, client_state={"flow": GREETING_FLOW})
        return
    call_set_flow(call=call, flow=ROUTE_FLOW, state={"queue": queue.pk, "agent": agent.pk if agent else None})
    call_answer(call=call, client_state={"flow": ROUTE_FLOW}, key="queue-route:answer")


def agent_route_queue(*, number: PhoneNumber, agent: Agent | None) -> Queue | None:
    """Where a caller of an agent's line waits and falls back to (``None``: nowhere)."""
    if number.queue_id:
        return number.queue
    if agent is None:
        return None
    return Queue.objects.filter(memberships__agent=agent).order_by("memberships__priority", "name", "pk").first()


@register_flow(ROUTE_FLOW)
def queue_route_flow(call: Call, event: WebhookEvent) -> None:
    """The queue route's and the agent route's caller, once answered, enters the queue (for the agent)."""
    if event.event_type == "call.answered" and call.flow == ROUTE_FLOW and call.status == Call.Status.ANSWERED:
        queue = Queue.objects.get(pk=call.flow_state["queue"])
        agent_id = call.flow_state.get("agent")
        agent = Agent.objects.filter(pk=agent_id).select_related("user").first() if agent_id else None
        # The agent has them before the queue's callers (the dispatcher serves callers meant for one agent
        # first); in the queue they keep the place of when they called, at the number's caller priority
        # (the usual 0 for a direct line).
        queue_enter(call=call, queue=queue, target_agent=agent, priority=call.flow_state.get("priority", 0))
