"""The engine against webhooks delivered by hand: late, duplicated and stale events replay nothing."""

from datetime import timedelta

import pytest

from apps.calls.models import Call
from apps.ivr.models import IvrStep
from apps.queues.models import QueueEntry
from apps.recordings.models import Voicemail
from apps.telnyx.client_state import client_state_decode, client_state_encode
from tests.ivr.flows import MAIN_PROMPT, SUPPORT_PROMPT, install, two_level
from tests.telnyx_webhooks import T0, call_event

pytestmark = pytest.mark.django_db(transaction=True)

LINE = "+13125550155"
CCID = "v3:ivr-unit"


@pytest.fixture
def deliver(webhook):
    clock = {"at": T0}

    def send(event_type, *, step=None, state=None, **payload):
        clock["at"] += timedelta(seconds=1)
        if step is not None:
            payload["client_state"] = client_state_encode({"flow": "ivr", "step": step, **(state or {})})
        response = webhook(call_event(event_type, CCID, at=clock["at"], to=LINE, **payload))
        assert response.status_code == 200

    return send


def bodies(telnyx_api, action):
    return [r["body"] for r in telnyx_api.requests if r["path"].endswith(f"/actions/{action}")]


def test_a_stale_or_repeated_gather_result_never_moves_the_call_twice(deliver, telnyx_api, queues):
    install(two_level(queues), LINE)
    deliver("call.initiated")
    deliver("call.answered", step=0)
    deliver("call.gather.ended", step=1, digits="2", status="valid")
    assert [b["payload"] for b in bodies(telnyx_api, "gather_using_speak")] == [MAIN_PROMPT, SUPPORT_PROMPT]

    # The same result again under another event id, and a late one for step 1: ignored.
    deliver("call.gather.ended", step=1, digits="2", status="valid")
    deliver("call.gather.ended", step=1, digits="1", status="valid")
    deliver("call.answered", step=0)
    assert len(bodies(telnyx_api, "gather_using_speak")) == 2
    assert not bodies(telnyx_api, "enqueue")

    deliver("call.gather.ended", step=2, digits="1", status="valid")
    enqueue = bodies(telnyx_api, "enqueue")
    assert [b["queue_name"] for b in enqueue] == [f"queue-{queues['Billing'].pk}"]
    assert client_state_decode(enqueue[0]["client_state"])["flow"] == "queue"
    call = Call.objects.get(call_control_id=CCID)
    assert call.flow == "queue"
    assert list(IvrStep.objects.filter(call=call).values_list("step", "node_key", "outcome")) == [
        (1, "main", "selected"), (2, "support", "selected"), (3, "billing", "enqueued")]

    # A late IVR event after the call moved to its queue changes nothing.
    deliver("call.gather.ended", step=2, digits="2", status="valid")
    assert len(bodies(telnyx_api, "enqueue")) == 1


def test_every_command_of_a_step_carries_the_step_in_its_client_state(deliver, telnyx_api, queues):
    install(two_level(queues), LINE)
    deliver("call.initiated")
    deliver("call.answered", step=0)
    deliver("call.gather.ended", step=1, digits="", status="timeout")
    deliver("call.speak.ended", step=2, status="completed")  # the "no key" notice ended
    gathers = bodies(telnyx_api, "gather_using_speak")
    notices = bodies(telnyx_api, "speak")
    assert [client_state_decode(b["client_state"])["step"] for b in gathers] == [1, 2]
    assert client_state_decode(notices[0]["client_state"]) == {"flow": "ivr", "step": 2, "phase": "notice", "node": "main"}
    assert all(b["maximum_tries"] == 1 and b["timeout_millis"] == 3000 for b in gathers)


def test_ssml_and_audio_prompts_use_the_right_commands(deliver, telnyx_api, queues):
    document = two_level(queues)
    document["nodes"][0]["prompt"] = {"type": "tts", "text": "<speak>Main <break time='300ms'/> menu</speak>",
                                      "voice": "female", "language": "en-GB"}
    document["nodes"][1]["prompt"] = {"type": "audio", "url": "https://example.com/support.mp3"}
    document["nodes"][7]["prompt"] = {"type": "audio", "url": "https://example.com/sorry.WAV?v=2"}
    install(document, LINE)
    deliver("call.initiated")
    deliver("call.answered", step=0)
    speak = bodies(telnyx_api, "gather_using_speak")[0]
    assert (speak["payload_type"], speak["voice"], speak["language"]) == ("ssml", "female", "en-GB")
    deliver("call.gather.ended", step=1, digits="2", status="valid")
    audio = bodies(telnyx_api, "gather_using_audio")[0]
    assert audio["audio_url"] == "https://example.com/support.mp3"
    for step in (2, 3, 4):  # three silent tries, then the fallback message
        if step > 2:
            deliver("call.speak.ended", step=step, status="completed")
        deliver("call.gather.ended", step=step, digits="", status="timeout")
    sorry = bodies(telnyx_api, "playback_start")[-1]
    assert (sorry["audio_url"], sorry["audio_type"]) == ("https://example.com/sorry.WAV?v=2", "wav")
    assert "audio_type" not in audio  # gather_using_audio has no such field: Telnyx reads either kind


def test_a_hang_up_while_recording_a_voicemail_keeps_the_message(deliver, telnyx_api, queues):
    install(two_level(queues), LINE)
    deliver("call.initiated")
    deliver("call.answered", step=0)
    deliver("call.gather.ended", step=1, digits="3", status="valid")
    deliver("call.speak.ended", step=2, status="completed")
    record = bodies(telnyx_api, "record_start")[0]
    record_state = client_state_decode(record["client_state"])
    assert record_state["recording"] == "voicemail"
    deliver("call.hangup", step=2, hangup_cause="normal_clearing", hangup_source="caller")
    step = IvrStep.objects.get(call__call_control_id=CCID, node_key="vm")
    assert step.outcome == "recorded" and step.left_at is not None
    requests = len(telnyx_api.requests)
    deliver("call.dtmf.received", step=2, digit="#")
    assert len(telnyx_api.requests) == requests  # nothing is sent to a call that has ended

    # Telnyx saves what was recorded once the call is over: the message is filed.
    deliver("call.recording.saved", state=record_state, step=2, recording_id="rec-vm-1", channels="single",
            recording_urls={"mp3": "http://127.0.0.1:9/rec-vm-1.mp3"})
    voicemail = Voicemail.objects.select_related("box", "recording", "call").get()
    assert voicemail.box.pk == record_state["box"] and voicemail.box.ivr.name == "Test IVR"
    assert voicemail.call.call_control_id == CCID and voicemail.recording.telnyx_recording_id == "rec-vm-1"
    assert len(telnyx_api.requests) == requests  # and the ended call is sent nothing (no goodbye)


def test_the_voicemail_prompts_end_delivered_again_does_not_cut_the_goodbye(deliver, telnyx_api, queues):
    install(two_level(queues), LINE)
    deliver("call.initiated")
    deliver("call.answered", step=0)
    deliver("call.gather.ended", step=1, digits="3", status="valid")
    prompt_state = client_state_decode(bodies(telnyx_api, "speak")[0]["client_state"])
    deliver("call.speak.ended", state=prompt_state, step=2, status="completed")
    record_state = client_state_decode(bodies(telnyx_api, "record_start")[0]["client_state"])
    deliver("call.recording.saved", state=record_state, step=2, recording_id="rec-vm-2", channels="single",
            recording_urls={"mp3": "http://127.0.0.1:9/rec-vm-2.mp3"})
    [goodbye] = [b for b in bodies(telnyx_api, "speak") if "Goodbye" in b["payload"]]

    deliver("call.speak.ended", state=prompt_state, step=2, status="completed")  # the prompt's, again
    assert not bodies(telnyx_api, "hangup")
    deliver("call.speak.ended", state=client_state_decode(goodbye["client_state"]), step=2, status="completed")
    assert len(bodies(telnyx_api, "hangup")) == 1


def test_queue_events_in_any_order_leave_the_entry_right(deliver, webhook, telnyx_api, queues):
    install(two_level(queues), LINE)
    deliver("call.initiated")
    deliver("call.answered", step=0)
    deliver("call.gather.ended", step=1, digits="1", status="valid")
    entry = QueueEntry.objects.get()
    state = {"flow": "queue", "queue": queues["Sales"].pk, "entry": entry.pk}
    dequeued_at = T0 + timedelta(seconds=30)
    webhook(call_event("call.dequeued", CCID, at=dequeued_at, to=LINE, queue="queue-1", reason="leave",
                       client_state=client_state_encode(state)))
    webhook(call_event("call.enqueued", CCID, at=T0 + timedelta(seconds=5), to=LINE, queue="queue-1",
                       current_position=2, client_state=client_state_encode(state)))
    entry.refresh_from_db()
    assert (entry.status, entry.leave_reason, entry.position) == ("left", "leave", 2)
    assert entry.entered_at == T0 + timedelta(seconds=5) and entry.left_at == dequeued_at


def test_a_voicemail_node_with_a_queue_files_messages_in_that_queues_box(deliver, telnyx_api, queues):
    from apps.recordings.models import VoicemailBox

    document = two_level(queues)
    document["nodes"][5]["queue"] = queues["Sales"].pk  # the "vm" node
    flow = install(document, LINE)
    assert VoicemailBox.objects.filter(queue=queues["Sales"]).exists()  # created with the flow
    assert not VoicemailBox.objects.filter(ivr=flow).exists()
    deliver("call.initiated")
    deliver("call.answered", step=0)
    deliver("call.gather.ended", step=1, digits="3", status="valid")
    deliver("call.speak.ended", step=2, status="completed")
    state = client_state_decode(bodies(telnyx_api, "record_start")[0]["client_state"])
    assert state["box"] == VoicemailBox.objects.get(queue=queues["Sales"]).pk


def test_a_hang_up_still_carrying_the_ivrs_client_state_takes_the_caller_out_of_the_queue(deliver, queues):
    install(two_level(queues), LINE)
    deliver("call.initiated")
    deliver("call.answered", step=0)
    deliver("call.gather.ended", step=1, digits="1", status="valid")  # sales: the IVR hands the call to the queue
    entry = QueueEntry.objects.get(call__call_control_id=CCID)
    assert entry.status == QueueEntry.Status.WAITING

    # The caller hangs up before Telnyx applied the enqueue: the hang-up still
    # carries the client_state of the IVR's last command.
    deliver("call.hangup", step=1, hangup_cause="normal_clearing", hangup_source="caller")
    entry.refresh_from_db()
    assert (entry.status, entry.leave_reason) == (QueueEntry.Status.LEFT, "hangup")
    assert Call.objects.get(call_control_id=CCID).connect_failure == Call.Outcome.ABANDONED


def test_a_forward_from_an_anonymous_caller_shows_the_ivr_line(deliver, telnyx_api, queues):
    install(two_level(queues), LINE)
    deliver("call.initiated", **{"from": "anonymous"})
    deliver("call.answered", step=0)
    deliver("call.gather.ended", step=1, digits="0", status="valid")  # the desk
    transfer = bodies(telnyx_api, "transfer")[0]
    assert (transfer["to"], transfer["from"]) == ("sip:desk@sandbox.telnyx.com", LINE)


def test_a_command_refused_because_the_caller_is_gone_sends_nothing_more(deliver, telnyx_api, queues):
    install(two_level(queues), LINE)
    deliver("call.initiated")
    telnyx_api.respond(422, {"errors": [{"code": "90018", "title": "Call has already ended"}]})
    deliver("call.answered", step=0)  # the main menu's gather is refused: the call is gone
    assert telnyx_api.actions() == ["answer", "gather_using_speak"]
    call = Call.objects.get(call_control_id=CCID)
    assert call.status == Call.Status.ENDED
    assert IvrStep.objects.get(call=call).outcome == ""  # no fallback, no apology to nobody


def test_a_refused_command_of_a_step_the_call_has_left_changes_nothing(deliver, telnyx_api, queues):
    from django.db import transaction

    from apps.ivr.engine import ivr_command_failed
    from apps.telnyx.models import TelnyxCommand

    install(two_level(queues), LINE)
    deliver("call.initiated")
    deliver("call.answered", step=0)
    deliver("call.gather.ended", step=1, digits="2", status="valid")  # now in the support menu
    old = TelnyxCommand.objects.get(key=f"{CCID}:ivr:1:gather")
    old.response = {"errors": [{"code": "90033", "title": "Unable to execute command"}]}
    requests = len(telnyx_api.requests)
    with transaction.atomic():
        ivr_command_failed(old)
    assert len(telnyx_api.requests) == requests
    assert [s.outcome for s in IvrStep.objects.filter(call__call_control_id=CCID)] == ["selected", ""]


def test_a_flow_in_french_with_no_voice_chosen_is_spoken_in_french(deliver, telnyx_api, queues):
    document = two_level(queues, language="fr-FR")
    document["nodes"][1]["prompt"]["voice"] = "Polly.Celine"  # the support menu has a voice of its own
    install(document, LINE)
    deliver("call.initiated")
    deliver("call.answered", step=0)
    deliver("call.gather.ended", step=1, digits="9", status="invalid")
    deliver("call.speak.ended", step=2, status="completed")  # the "not a choice" notice
    deliver("call.gather.ended", step=2, digits="2", status="valid")
    main, again, support = bodies(telnyx_api, "gather_using_speak")
    notice = bodies(telnyx_api, "speak")[0]
    # Telnyx drops a language sent with its named default voice: the basic
    # female voice speaks it instead.
    assert (main["voice"], main["language"]) == ("female", "fr-FR")
    assert (notice["voice"], notice["language"]) == ("female", "fr-FR")
    assert (again["voice"], again["language"]) == ("female", "fr-FR")
    assert support["voice"] == "Polly.Celine" and "language" not in support


def test_a_flow_with_no_language_keeps_the_default_voice(deliver, telnyx_api, queues, settings):
    install(two_level(queues), LINE)
    deliver("call.initiated")
    deliver("call.answered", step=0)
    main = bodies(telnyx_api, "gather_using_speak")[0]
    assert main["voice"] == settings.TELNYX_DEFAULT_VOICE and "language" not in main


def test_a_menu_left_without_options_sends_the_caller_to_its_fallback(deliver, telnyx_api, queues):
    from apps.ivr.models import IvrOption
    from tests.ivr.flows import SORRY

    install(two_level(queues), LINE)
    IvrOption.objects.filter(node__key="main").delete()  # as a save around the checks could leave it
    deliver("call.initiated")
    deliver("call.answered", step=0)
    assert not bodies(telnyx_api, "gather_using_speak")
    assert [b["payload"] for b in bodies(telnyx_api, "speak")] == [SORRY]
    assert list(IvrStep.objects.filter(call__call_control_id=CCID).values_list("node_key", "outcome", "next_key")) == [
        ("main", "failed", "sorry"), ("sorry", "", "")]


def test_business_hours_nodes_looping_into_each_other_end_at_the_step_limit(deliver, telnyx_api):
    from tests.ivr.flows import HOURS_CHICAGO

    def hours(key, other):
        return {"key": key, "kind": "hours", "name": key, "hours": HOURS_CHICAGO, "open": other, "closed": other}

    # Nothing the caller hears: each node passes the call straight on, 500 times and then some.
    install({"name": "Hours loop", "entry": "a", "fallback": "b", "max_steps": 500,
             "nodes": [hours("a", "b"), hours("b", "a")]}, LINE)
    deliver("call.initiated")
    deliver("call.answered", step=0)
    steps = list(IvrStep.objects.filter(call__call_control_id=CCID).order_by("step").values_list("outcome", flat=True))
    assert len(steps) == 511  # 500 steps, the limit, the fallback's ten steps of grace, the limit again
    assert steps[500] == steps[-1] == "step_limit"
    assert telnyx_api.actions() == ["answer", "hangup"]
