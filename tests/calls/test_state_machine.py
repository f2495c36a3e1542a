"""Calls end up right whatever order, and however often, Telnyx delivers their events."""

import itertools
from datetime import timedelta

import pytest

from apps.calls.models import Call, CallEvent
from tests.factories import PhoneNumberFactory
from tests.telnyx_webhooks import T0, call_event, call_lifecycle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def main_line(db):
    return PhoneNumberFactory(e164="+13125550100")


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_events_in_any_order_leave_the_call_ended_with_true_times(webhook, order):
    ccid = f"v3:order-{''.join(map(str, order))}"
    events = call_lifecycle(ccid)
    for index in order:
        assert webhook(events[index]).status_code == 200

    call = Call.objects.get(call_control_id=ccid)
    assert call.status == Call.Status.ENDED
    assert call.outcome == Call.Outcome.ANSWERED
    assert call.initiated_at == T0
    assert call.answered_at == T0 + timedelta(seconds=1)
    assert call.ended_at == T0 + timedelta(seconds=31)
    # Answered by the app (a greeting line), never by a person: no talk time in the call log.
    assert (call.caller_outcome, call.talk_seconds) == (Call.Outcome.SELF_SERVICE, 0)
    assert call.hangup_cause == "normal_clearing"
    assert call.direction == Call.Direction.INBOUND
    assert call.events.filter(source="telnyx").count() == 3


def test_a_late_answer_never_revives_an_ended_call(webhook):
    initiated, answered, hangup = call_lifecycle("v3:late")
    for body in (initiated, hangup, answered):
        webhook(body)
    call = Call.objects.get()
    assert call.status == Call.Status.ENDED
    assert call.answered_at == T0 + timedelta(seconds=1)  # the fact is kept
    status_changes = list(call.events.exclude(new_status="").values_list("old_status", "new_status"))
    assert status_changes == [("initiated", "ended")]


def test_hangup_before_any_other_event_still_yields_a_complete_record(webhook):
    initiated, answered, hangup = call_lifecycle("v3:first-hangup")
    webhook(hangup)
    call = Call.objects.get()
    assert call.status == Call.Status.ENDED
    assert call.outcome == Call.Outcome.ABANDONED  # nobody answered, the caller hung up
    webhook(answered)
    webhook(initiated)
    call.refresh_from_db()
    assert (call.status, call.outcome) == (Call.Status.ENDED, Call.Outcome.ANSWERED)
    assert call.from_number == "+15551230001"


def test_duplicate_events_with_new_ids_change_nothing_twice(webhook):
    events = call_lifecycle("v3:dupes")
    for body in events:
        webhook(body)
    version = Call.objects.get().version
    for body in events:  # the same facts again, as fresh events an hour later
        webhook(call_event(body["data"]["event_type"], "v3:dupes", at=T0 + timedelta(hours=1)))
    call = Call.objects.get()
    assert call.ended_at == T0 + timedelta(seconds=31)
    assert call.answered_at == T0 + timedelta(seconds=1)
    assert call.initiated_at == T0
    assert call.version == version


def test_an_unanswered_call_that_timed_out_is_no_answer(webhook):
    ccid = "v3:outbound"
    webhook(call_event("call.initiated", ccid, direction="outgoing", state="bridging"))
    webhook(call_event("call.hangup", ccid, direction="outgoing", at=T0 + timedelta(seconds=30),
                       hangup_cause="timeout", hangup_source="callee"))
    call = Call.objects.get()
    assert (call.direction, call.outcome) == (Call.Direction.OUTBOUND, Call.Outcome.NO_ANSWER)


def test_each_webhook_is_logged_on_its_call(webhook):
    for body in call_lifecycle("v3:log"):
        webhook(body)
    kinds = list(CallEvent.objects.filter(source="telnyx").values_list("kind", flat=True))
    assert kinds == ["call.initiated", "call.answered", "call.hangup"]


def test_a_call_to_a_number_we_do_not_own_is_rejected(webhook, telnyx_api):
    webhook(call_event("call.initiated", "v3:stranger", to="+13125559999"))
    assert telnyx_api.actions() == ["reject"]
    assert telnyx_api.requests[0]["body"]["cause"] == "CALL_REJECTED"
    call = Call.objects.get()
    assert call.events.filter(kind="rejected").exists()


def test_a_call_initiated_after_its_hangup_is_not_answered(webhook, telnyx_api):
    initiated, hangup = call_lifecycle("v3:ghost", answered=False)
    webhook(hangup)
    webhook(initiated)
    assert telnyx_api.requests == []
