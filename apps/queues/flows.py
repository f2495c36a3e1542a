"""The ``queue`` flow (a call waiting in a queue) and the queue route of a number."""

from apps.calls.flows import register_flow
from apps.calls.inbound import register_route
from apps.calls.models import Call
from apps.calls.services import call_answer, call_log, call_reject, call_set_flow
from apps.numbers.models import PhoneNumber
from apps.queues.models import Queue, QueueEntry
from apps.queues.services import FLOW, queue_enter, queue_entry_enqueued, queue_entry_left
from apps.telnyx.events import WebhookEvent

ROUTE_FLOW = "queue_route"


@register_flow(FLOW)
def queue_flow(call: Call, event: WebhookEvent) -> None:
    """Keep the call's queue entry current from Telnyx's queue events."""
    entry_pk = event.client_state.get("entry") or call.flow_state.get("entry")
    entry = QueueEntry.objects.select_for_update().filter(pk=entry_pk, call=call).first()
    if entry is None:
        return
    payload = event.payload
    if event.event_type == "call.enqueued":
        queue_entry_enqueued(entry=entry, at=event.occurred_at, position=payload.current_position)
    elif event.event_type == "call.dequeued":
        queue_entry_left(entry=entry, at=event.occurred_at, reason=payload.reason or "dequeued")
    elif event.event_type == "call.hangup":
        queue_entry_left(entry=entry, at=event.occurred_at, reason="hangup")


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
