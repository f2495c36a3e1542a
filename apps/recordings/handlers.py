"""``call.recording.saved``: note the recording for its call (order 10, after the call's state)."""

from apps.calls.models import Call
from apps.recordings.services import recording_note
from apps.telnyx.dispatch import on_event
from apps.telnyx.events import WebhookEvent


@on_event("call.recording.saved", order=10)
def recording_saved(event: WebhookEvent) -> None:
    call = Call.objects.filter(call_control_id=event.call_control_id).first()
    purpose = event.client_state.get("recording") or "call"
    recording_note(event=event, call=call, purpose=purpose)
