"""Every ``call.*`` webhook: update the call's state, then hand it to its flow."""

from apps.calls.flows import flow_dispatch
from apps.calls.inbound import inbound_route
from apps.calls.models import Call
from apps.calls.services import call_apply_event, call_for_event
from apps.telnyx.dispatch import on_event
from apps.telnyx.events import WebhookEvent


@on_event("call.*", order=0)
def call_event(event: WebhookEvent) -> None:
    if not event.call_control_id:
        return
    call = call_for_event(event)
    call_apply_event(call=call, event=event)
    if _is_new_inbound(call, event):
        inbound_route(call, event)
    else:
        flow_dispatch(call, event)


def _is_new_inbound(call: Call, event: WebhookEvent) -> bool:
    # Only a live, not-yet-routed inbound leg is routed: a call.initiated
    # that arrives after the hangup, or twice, must not answer anything.
    return (
        event.event_type == "call.initiated"
        and call.direction == Call.Direction.INBOUND
        and call.status == Call.Status.INITIATED
        and not call.flow
        and not event.client_state
    )
