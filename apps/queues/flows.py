"""Flows of queued calls: the caller (``queue``), agents' legs (``agent``), call-backs, transfers; the queue route."""

from apps.calls.flows import register_flow
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
    call_set_flow(call=call, flow=ROUTE_FLOW, state={"queue": number.queue_id})
    call_answer(call=call, client_state={"flow": ROUTE_FLOW}, key="queue-route:answer")


@register_flow(ROUTE_FLOW)
def queue_route_flow(call: Call, event: WebhookEvent) -> None:
    if event.event_type == "call.answered" and call.flow == ROUTE_FLOW and call.status == Call.Status.ANSWERED:
        queue_enter(call=call, queue=Queue.objects.get(pk=call.flow_state["queue"]))
