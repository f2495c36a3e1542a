"""A caller rings a number through the sandbox and the center handles it end to end."""

from collections import Counter

import pytest

from apps.calls.models import Call
from apps.telnyx.models import TelnyxCommand, TelnyxEvent
from tests.factories import PhoneNumberFactory

pytestmark = pytest.mark.e2e

MAIN_LINE = "+13125550100"
CALLER = "+15551230001"


@pytest.fixture
def main_line(db):
    return PhoneNumberFactory(e164=MAIN_LINE, greeting="Thanks for calling. Goodbye.")


def _ended_call(center, ccid):
    return center.wait_for(
        lambda: Call.objects.filter(call_control_id=ccid, status=Call.Status.ENDED).first(),
        message=f"call {ccid} to end in the center",
    )


def _actions(center, ccid):
    """The commands the center sent for a call, as Telnyx saw them (deduped ones excluded)."""
    return [c["action"] for c in center.sandbox.commands(call_control_id=ccid) if not c.get("deduped")]


def test_the_center_answers_an_inbound_call_greets_and_hangs_up(center, main_line):
    placed = center.sandbox.place_call(from_=CALLER, to=MAIN_LINE)
    ccid = placed["call_control_id"]

    center.sandbox.wait_for_event(ccid, "call.hangup")
    call = _ended_call(center, ccid)

    assert _actions(center, ccid) == ["answer", "speak", "hangup"]
    speak = center.sandbox.commands(call_control_id=ccid, action="speak")[0]
    assert speak["body"]["payload"] == "Thanks for calling. Goodbye."
    assert call.direction == Call.Direction.INBOUND
    assert (call.from_number, call.to_number, call.phone_number) == (CALLER, MAIN_LINE, main_line)
    assert call.outcome == Call.Outcome.ANSWERED
    assert call.initiated_at < call.answered_at < call.ended_at
    assert call.hangup_cause == "normal_clearing"
    logged = list(call.events.filter(source="telnyx").values_list("kind", flat=True))
    assert logged[0] == "call.initiated" and logged[-1] == "call.hangup"
    assert TelnyxCommand.objects.filter(status=TelnyxCommand.Status.SUCCEEDED).count() == 3


def test_a_call_to_a_number_we_do_not_own_is_rejected_not_left_ringing(center):
    ccid = center.sandbox.place_call(from_=CALLER, to="+13125559999")["call_control_id"]
    center.sandbox.wait_for_event(ccid, "call.hangup")
    assert _actions(center, ccid) == ["reject"]
    call = _ended_call(center, ccid)
    assert (call.outcome, call.hangup_cause) == (Call.Outcome.REJECTED, "call_rejected")


def test_the_same_event_delivered_twice_causes_one_command(center, main_line):
    center.sandbox.set_faults(duplicate_rate=1.0)
    ccid = center.sandbox.place_call(from_=CALLER, to=MAIN_LINE)["call_control_id"]
    center.sandbox.wait_for_event(ccid, "call.hangup")
    _ended_call(center, ccid)
    center.sandbox.wait_for_idle()

    deliveries = Counter(w["event_id"] for w in center.sandbox.webhooks(call_control_id=ccid) if w["status"] == 200)
    assert deliveries and set(deliveries.values()) == {2}  # every event arrived twice...
    assert TelnyxEvent.objects.filter(call_control_id=ccid).count() == len(deliveries)  # ...was stored once
    requests = [c["action"] for c in center.sandbox.commands(call_control_id=ccid)]
    assert requests == ["answer", "speak", "hangup"]  # ...and caused each command once


def test_shuffled_and_duplicated_events_leave_every_call_in_the_right_final_state(center, main_line):
    center.sandbox.set_faults(reorder_window_ms=150, duplicate_rate=0.5)
    ccids = [center.sandbox.place_call(from_=f"+1555123{n:04d}", to=MAIN_LINE)["call_control_id"] for n in range(8)]
    for ccid in ccids:
        center.sandbox.wait_for_event(ccid, "call.hangup", timeout=20)
    center.sandbox.wait_for_idle(timeout=20)

    for ccid in ccids:
        call = _ended_call(center, ccid)
        truth = {e["event_type"]: e["occurred_at"] for e in center.sandbox.events(call_control_id=ccid)}
        assert call.outcome == Call.Outcome.ANSWERED
        assert call.answered_at.isoformat().replace("+00:00", "Z")[:23] == truth["call.answered"][:23]
        assert call.ended_at.isoformat().replace("+00:00", "Z")[:23] == truth["call.hangup"][:23]
        assert _actions(center, ccid) == ["answer", "speak", "hangup"]


def test_a_command_whose_first_attempt_gets_a_500_is_retried_with_the_same_id_and_applied_once(center, main_line):
    center.sandbox.set_faults(command_5xx_first_attempts=1)
    ccid = center.sandbox.place_call(from_=CALLER, to=MAIN_LINE)["call_control_id"]
    center.sandbox.wait_for_event(ccid, "call.hangup")

    answers = center.sandbox.commands(call_control_id=ccid, action="answer")
    assert [a["status"] for a in answers] == [500, 200]
    assert answers[0]["command_id"] == answers[1]["command_id"]
    command = TelnyxCommand.objects.get(call_control_id=ccid, action="answer")
    assert str(command.command_id) == answers[0]["command_id"]
    assert command.status == TelnyxCommand.Status.SUCCEEDED
    assert len(center.sandbox.events(call_control_id=ccid, event_type="call.answered")) == 1


def test_a_slow_api_gets_the_same_command_again_and_applies_it_once(center, main_line):
    # No answer within 500 ms: the client sends the command again with the
    # same command_id, and Telnyx (the sandbox) ignores the repeat.
    center.sandbox.set_faults(api_latency_ms=700)
    ccid = center.sandbox.place_call(from_=CALLER, to=MAIN_LINE)["call_control_id"]
    center.sandbox.wait_for_event(ccid, "call.answered")
    center.wait_for(lambda: TelnyxCommand.objects.filter(action="answer", status="succeeded").exists(), timeout=15)

    answers = center.sandbox.commands(call_control_id=ccid, action="answer")
    assert len(answers) >= 2
    assert len({a["command_id"] for a in answers}) == 1
    assert sum(not a.get("deduped") for a in answers) == 1
    assert len(center.sandbox.events(call_control_id=ccid, event_type="call.answered")) == 1
    center.sandbox.set_faults(api_latency_ms=0)


def test_a_command_for_a_call_that_is_gone_is_recorded_and_the_call_marked_ended(center):
    from django.db import transaction

    from apps.calls.services import call_speak

    PhoneNumberFactory(e164=MAIN_LINE, greeting="Please hold. " * 100)  # keeps the center from hanging up
    ccid = center.sandbox.place_call(from_=CALLER, to=MAIN_LINE, hangup_after_ms=3000)["call_control_id"]
    center.sandbox.wait_for_event(ccid, "call.answered", delivered=True)
    # Hold the caller's hang-up webhook back so the center still thinks the call is up.
    center.sandbox.update_config(webhook_url="http://127.0.0.1:9/unreachable/")
    center.sandbox.wait_for(lambda: center.sandbox.call(ccid)["state"] == "ended", message="caller to hang up")
    call = center.wait_for(lambda: Call.objects.filter(call_control_id=ccid, status="answered").first())

    with transaction.atomic():
        call_speak(call=call, text="Are you still there?", key="probe")

    command = TelnyxCommand.objects.get(call_control_id=ccid, key__endswith=":probe")
    assert command.status == TelnyxCommand.Status.FAILED
    assert command.response_status == 422
    assert command.error_code == "90018"
    call.refresh_from_db()
    assert call.status == Call.Status.ENDED
    assert call.events.filter(kind="ended.inferred").exists()
