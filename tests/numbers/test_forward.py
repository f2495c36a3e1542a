"""A call to a tracking number is forwarded, through the sandbox, and logged as the caller lived it."""

import pytest

from apps.calls.models import Call
from apps.numbers.models import CallerLookup
from apps.recordings.models import Recording
from tests.factories import PhoneNumberFactory

pytestmark = pytest.mark.e2e

TRACKING = "+13125550110"
DESK = "+13125550190"
CALLER = "+13125550177"


@pytest.fixture
def tracking_number(db):
    return PhoneNumberFactory(
        e164=TRACKING, label="Google Ads line", route="forward", forward_to=DESK,
        tracking_source="Google Ads", tracking_campaign="spring-sale",
    )


def _seconds(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _ended(center, ccid, timeout=15):
    return center.wait_for(
        lambda: Call.objects.filter(call_control_id=ccid, status=Call.Status.ENDED).first(),
        timeout=timeout, message=f"call {ccid} to end in the center",
    )


def _destination_leg(center, timeout=10):
    return center.sandbox.wait_for_call(lambda c: c["to"] == DESK, direction="outgoing", timeout=timeout)


def test_a_tracking_call_is_forwarded_with_the_callers_number_and_logged(center, tracking_number):
    center.sandbox.set_caller_names({CALLER: "GRACE HOPPER"})
    # The desk talks for 44 s of sandbox time: 2.2 s of wall clock, which webhook timestamps use.
    center.sandbox.set_destinations({DESK: {"answer": "auto", "ring_ms": 400, "hangup_after_ms": 44000}})

    ccid = center.sandbox.place_call(from_=CALLER, to=TRACKING)["call_control_id"]
    leg = _destination_leg(center)
    center.sandbox.wait_for_event(ccid, "call.hangup", timeout=15)
    call = _ended(center, ccid)

    assert leg["from"] == CALLER  # the person answering sees the caller's number
    dial = center.sandbox.commands(action="dial")[0]
    assert dial["body"]["link_to"] == ccid and dial["body"]["to"] == DESK
    child = Call.objects.get(call_control_id=leg["call_control_id"])
    assert child.parent == call and child.direction == Call.Direction.OUTBOUND
    center.wait_for(lambda: Call.objects.get(pk=call.pk).caller_name == "GRACE HOPPER", message="caller name")
    call.refresh_from_db()
    assert (call.tracking_source, call.tracking_campaign, call.destination) == ("Google Ads", "spring-sale", DESK)
    assert call.caller_outcome == Call.Outcome.ANSWERED
    assert call.first_time_caller is True
    truth = {e["event_type"]: e["occurred_at"] for e in center.sandbox.events(call_control_id=ccid)}
    bridged = center.sandbox.events(call_control_id=ccid, event_type="call.bridged")[0]["occurred_at"]
    assert call.connected_at.isoformat().replace("+00:00", "Z")[:23] == bridged[:23]
    assert call.ended_at.isoformat().replace("+00:00", "Z")[:23] == truth["call.hangup"][:23]
    talk = _seconds(truth["call.hangup"]) - _seconds(bridged)
    assert abs(call.talk_seconds - talk) < 1 and call.talk_seconds >= 2


@pytest.mark.parametrize("withheld", ["anonymous", "Restricted"])
def test_a_caller_who_withholds_their_number_is_forwarded_showing_the_tracking_number(
    center, tracking_number, withheld
):
    center.sandbox.set_destinations({DESK: {"answer": "auto", "ring_ms": 200, "hangup_after_ms": 4000}})

    ccid = center.sandbox.place_call(from_=withheld, to=TRACKING)["call_control_id"]
    leg = _destination_leg(center)
    center.sandbox.wait_for_event(ccid, "call.hangup", timeout=15)
    call = _ended(center, ccid)

    assert center.sandbox.commands(action="dial")[0]["body"]["from"] == TRACKING
    assert leg["from"] == TRACKING  # the desk sees which tracking line rings, not "anonymous"
    assert call.from_number == withheld and call.caller_outcome == Call.Outcome.ANSWERED
    assert call.events.get(kind="forward.dial").data == {"to": DESK, "caller_id": TRACKING}


def _actions(center, ccid):
    return [c["action"] for c in center.sandbox.commands(call_control_id=ccid) if not c.get("deduped")]


@pytest.mark.parametrize(
    "destination, outcome, spoken",
    [
        ({"answer": "busy", "ring_ms": 300}, Call.Outcome.BUSY, "busy"),
        ({"answer": "never"}, Call.Outcome.NO_ANSWER, "nobody is available"),
        ({"answer": "not_found", "ring_ms": 300}, Call.Outcome.FAILED, "could not connect"),
    ],
)
def test_when_the_destination_does_not_take_the_call_the_caller_hears_why_and_is_hung_up(
    center, tracking_number, destination, outcome, spoken
):
    tracking_number.forward_timeout = 5  # 0.25 s of wall clock at the test time scale
    tracking_number.save()
    center.sandbox.set_destinations({DESK: destination})

    ccid = center.sandbox.place_call(from_=CALLER, to=TRACKING)["call_control_id"]
    center.sandbox.wait_for_event(ccid, "call.hangup", timeout=15)
    call = _ended(center, ccid)

    assert _actions(center, ccid) == ["answer", "speak", "hangup"]
    speak = center.sandbox.commands(call_control_id=ccid, action="speak")[0]
    assert spoken in speak["body"]["payload"]
    assert (call.caller_outcome, call.talk_seconds, call.connected_at) == (outcome, 0, None)
    assert center.sandbox.commands(action="dial")[0]["body"]["timeout_secs"] == 5


def test_a_caller_who_hangs_up_while_the_destination_rings_is_abandoned_and_the_ringing_stops(
    center, tracking_number
):
    center.sandbox.set_destinations({DESK: {"answer": "manual"}})
    ccid = center.sandbox.place_call(from_=CALLER, to=TRACKING)["call_control_id"]
    leg = _destination_leg(center)
    center.wait_for(lambda: Call.objects.filter(call_control_id=leg["call_control_id"], parent__isnull=False).exists())

    center.sandbox.hangup(ccid)
    center.sandbox.wait_for_event(leg["call_control_id"], "call.hangup", timeout=10)
    call = _ended(center, ccid)
    child = _ended(center, leg["call_control_id"])

    assert call.caller_outcome == Call.Outcome.ABANDONED and call.talk_seconds == 0
    assert _actions(center, leg["call_control_id"]) == ["dial", "hangup"]  # we stopped the ringing
    assert child.parent_id == call.pk


def test_the_callee_hears_the_whisper_before_the_caller_is_connected_and_the_call_is_recorded(
    center, tracking_number
):
    tracking_number.whisper = "Call from {source}"
    tracking_number.record_calls = True
    tracking_number.save()
    center.sandbox.set_destinations({DESK: {"answer": "auto", "ring_ms": 300, "hangup_after_ms": 20000}})

    ccid = center.sandbox.place_call(from_=CALLER, to=TRACKING)["call_control_id"]
    leg = _destination_leg(center)
    center.sandbox.wait_for_event(ccid, "call.recording.saved", timeout=15)
    call = _ended(center, ccid)

    whisper = center.sandbox.commands(call_control_id=leg["call_control_id"], action="speak")
    assert [w["body"]["payload"] for w in whisper] == ["Call from Google Ads"]
    assert _actions(center, ccid) == ["answer", "bridge", "record_start"]
    spoken_end = center.sandbox.events(call_control_id=leg["call_control_id"], event_type="call.speak.ended")[0]
    bridged = center.sandbox.events(call_control_id=ccid, event_type="call.bridged")[0]
    assert spoken_end["occurred_at"] <= bridged["occurred_at"]  # the caller never hears the whisper
    recording = center.wait_for(lambda: Recording.objects.filter(call=call, status="stored").first(),
                                message="the recording to be stored")
    assert recording.purpose == "call"
    assert call.caller_outcome == Call.Outcome.ANSWERED


def test_two_calls_from_one_number_cause_one_lookup(center, tracking_number):
    center.sandbox.set_caller_names({CALLER: "ALAN TURING"})
    center.sandbox.set_destinations({DESK: {"answer": "auto", "ring_ms": 200, "hangup_after_ms": 2000}})
    ccids = []
    for _ in range(2):
        ccids.append(center.sandbox.place_call(from_=CALLER, to=TRACKING)["call_control_id"])
        center.sandbox.wait_for_event(ccids[-1], "call.hangup", timeout=15)
        _ended(center, ccids[-1])

    calls = [center.wait_for(lambda c=c: Call.objects.filter(call_control_id=c, caller_name="ALAN TURING").first())
             for c in ccids]
    assert [entry["phone_number"] for entry in center.sandbox.lookups()] == [CALLER]
    assert CallerLookup.objects.get(phone_number=CALLER).caller_name == "ALAN TURING"
    assert [c.first_time_caller for c in calls] == [True, False]
    cached = [e.data["cached"] for c in calls for e in c.events.filter(kind="caller_name.lookup")]
    assert cached == [False, True]


def test_a_call_to_a_released_number_is_rejected_and_its_history_stays(center, tracking_number):
    center.sandbox.set_destinations({DESK: {"answer": "auto", "ring_ms": 200, "hangup_after_ms": 2000}})
    first = center.sandbox.place_call(from_=CALLER, to=TRACKING)["call_control_id"]
    center.sandbox.wait_for_event(first, "call.hangup", timeout=15)
    _ended(center, first)
    tracking_number.status = "released"
    tracking_number.save()

    second = center.sandbox.place_call(from_=CALLER, to=TRACKING)["call_control_id"]
    center.sandbox.wait_for_event(second, "call.hangup", timeout=15)

    assert _actions(center, second) == ["reject"]
    assert _ended(center, second).caller_outcome == Call.Outcome.REJECTED
    kept = Call.objects.get(call_control_id=first)
    assert (kept.phone_number, kept.tracking_source) == (tracking_number, "Google Ads")


def test_duplicated_and_shuffled_webhooks_still_forward_once_and_log_right(center, tracking_number):
    center.sandbox.set_faults(reorder_window_ms=150, duplicate_rate=0.5)
    center.sandbox.set_destinations({DESK: {"answer": "auto", "ring_ms": 300, "hangup_after_ms": 20000}})
    callers = [f"+1312555{n:04d}" for n in range(300, 304)]
    ccids = [center.sandbox.place_call(from_=caller, to=TRACKING)["call_control_id"] for caller in callers]
    for ccid in ccids:
        center.sandbox.wait_for_event(ccid, "call.hangup", timeout=20)
    center.sandbox.wait_for_idle(timeout=20)

    for ccid in ccids:
        call = _ended(center, ccid)
        assert _actions(center, ccid) == ["answer", "bridge"]
        assert len(center.sandbox.commands(action="dial", call_control_id=call.legs.get().call_control_id)) == 1
        assert call.caller_outcome == Call.Outcome.ANSWERED and call.connected_at is not None
        assert call.tracking_source == "Google Ads" and call.first_time_caller is True
