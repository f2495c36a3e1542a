"""``call.initiated``: start the call-log entry of a new inbound call (after its routing, order 0)."""

from apps.analytics.services import call_log_start
from apps.telnyx.dispatch import on_event
from apps.telnyx.events import WebhookEvent


@on_event("call.initiated", order=20)
def call_log_initiated(event: WebhookEvent) -> None:
    # Only inbound legs get a call-log entry; skip the lookup for the others.
    if event.call_control_id and getattr(event.payload, "direction", None) == "incoming":
        call_log_start(call_control_id=event.call_control_id)
