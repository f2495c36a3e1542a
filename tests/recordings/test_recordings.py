"""Recordings are copied from Telnyx into private storage and served only to those allowed."""

import pytest
from django.db import transaction

from apps.calls.models import Call
from apps.calls.services import call_command
from apps.recordings.models import Recording
from tests.factories import PhoneNumberFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def recorded_call(center):
    PhoneNumberFactory(e164="+13125550100", greeting="Please hold. " * 150)  # keeps the call up
    ccid = center.sandbox.place_call(from_="+15551230001", to="+13125550100")["call_control_id"]
    center.sandbox.wait_for_event(ccid, "call.speak.started")
    call = Call.objects.get(call_control_id=ccid)
    with transaction.atomic():
        call_command(call=call, action="record_start", body={"format": "wav", "channels": "single"}, key="rec")
    center.sandbox.wait_for_command(ccid, "record_start")
    with transaction.atomic():
        call_command(call=call, action="record_stop", key="rec-stop")
    center.sandbox.wait_for_event(ccid, "call.recording.saved")
    recording = center.wait_for(
        lambda: Recording.objects.filter(call=call, status=Recording.Status.STORED).first(),
        message="the recording to be copied",
    )
    center.sandbox.hangup(ccid)
    return recording


def test_a_saved_recording_is_copied_to_private_storage(recorded_call):
    assert recorded_call.format == "wav"
    assert recorded_call.file.name.startswith("recordings/")
    with recorded_call.file.open("rb") as f:
        assert f.read(4) == b"RIFF"


def test_a_supervisor_can_play_it_and_an_agent_cannot(recorded_call, client, supervisor_user, agent_user):
    url = f"/recordings/{recorded_call.pk}/audio/"
    assert client.get(url).status_code == 302  # anonymous: log in first
    client.force_login(agent_user)
    assert client.get(url).status_code == 403
    client.force_login(supervisor_user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content)[:4] == b"RIFF"


def test_the_same_recording_webhook_twice_keeps_one_recording(recorded_call, center):
    assert Recording.objects.count() == 1


def test_the_call_page_and_api_never_show_telnyx_recording_links(recorded_call, client, supervisor_user):
    # Telnyx's links play the audio to anyone who has them; ours checks who asks.
    client.force_login(supervisor_user)
    call = recorded_call.call
    page = client.get(f"/calls/{call.pk}/").content.decode()
    api = client.get(f"/api/calls/{call.pk}/").content.decode()
    assert "call.recording.saved" in page and "call.recording.saved" in api
    for shown in (page, api):
        assert "/_sandbox/media/recordings/" not in shown
