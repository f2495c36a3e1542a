"""``call.recording.saved`` of a voicemail: file it in its box.

Order 20: after the call's state (0) and after ``recording_note`` (10) has
noted the Recording this message points to.
"""

import logging

from apps.calls.models import Call
from apps.recordings.models import VoicemailBox
from apps.recordings.selectors import recording_for_event
from apps.recordings.voicemail.services import voicemail_create
from apps.telnyx.dispatch import on_event
from apps.telnyx.events import WebhookEvent

logger = logging.getLogger(__name__)


@on_event("call.recording.saved", order=20)
def voicemail_saved(event: WebhookEvent) -> None:
    if event.client_state.get("recording") != "voicemail":
        return
    recording = recording_for_event(event)
    box = VoicemailBox.objects.filter(pk=event.client_state.get("box")).first()
    if recording is None or box is None:
        logger.warning("voicemail recording %s has no box (%s)", event.id, event.client_state.get("box"))
        return
    call = Call.objects.filter(call_control_id=event.call_control_id).first()
    voicemail_create(recording=recording, box=box, call=call)
