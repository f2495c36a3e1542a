"""The forward flow when Telnyx refuses its commands (the Telnyx API edge answers)."""

from datetime import timedelta

import pytest

from apps.calls.models import Call
from tests.factories import PhoneNumberFactory
from tests.telnyx_webhooks import T0, call_event

pytestmark = pytest.mark.django_db(transaction=True)

TRACKING = "+13125550110"


@pytest.fixture(autouse=True)
def tracking_number(db):
    return PhoneNumberFactory(e164=TRACKING, route="forward", forward_to="+13125550190",
                              tracking_source="Google Ads")


def _event(kind, at, **payload):
    return call_event(kind, "v3:caller", at=at, to=TRACKING, **{"from": "+13125550177"}, **payload)


def test_a_dial_telnyx_refuses_tells_the_caller_and_hangs_up(webhook, telnyx_api):
    webhook(_event("call.initiated", T0))
    telnyx_api.respond(422, {"errors": [{"code": "10015", "title": "Invalid parameter",
                                         "detail": "The destination is not allowed by the outbound profile"}]})
    webhook(_event("call.answered", T0 + timedelta(seconds=1)))

    assert [r["path"] for r in telnyx_api.requests] == [
        "/v2/calls/v3:caller/actions/answer", "/v2/calls", "/v2/calls/v3:caller/actions/speak"]
    dial = telnyx_api.requests[1]["body"]
    assert (dial["from"], dial["to"], dial["link_to"]) == ("+13125550177", "+13125550190", "v3:caller")
    assert "could not connect" in telnyx_api.requests[2]["body"]["payload"]
    call = Call.objects.get(call_control_id="v3:caller")
    assert call.status == Call.Status.ANSWERED  # the refused dial did not end the caller's leg
    assert call.connect_failure == Call.Outcome.FAILED

    speak_ended = _event("call.speak.ended", T0 + timedelta(seconds=5), status="completed")
    speak_ended["data"]["payload"]["client_state"] = telnyx_api.requests[2]["body"]["client_state"]
    webhook(speak_ended)
    webhook(_event("call.hangup", T0 + timedelta(seconds=6), hangup_cause="normal_clearing",
                   hangup_source="callee"))

    assert telnyx_api.actions()[-1] == "hangup"
    call.refresh_from_db()
    assert (call.caller_outcome, call.talk_seconds) == (Call.Outcome.FAILED, 0)


def test_a_repeated_answer_event_dials_once(webhook, telnyx_api):
    webhook(_event("call.initiated", T0))
    webhook(_event("call.answered", T0 + timedelta(seconds=1)))
    webhook(_event("call.answered", T0 + timedelta(seconds=1)))  # the same fact, a new event id
    assert [r["path"] for r in telnyx_api.requests].count("/v2/calls") == 1


def test_a_caller_without_a_number_is_forwarded_showing_the_tracking_number(webhook, telnyx_api):
    webhook(call_event("call.initiated", "v3:nobody", at=T0, to=TRACKING, **{"from": ""}))
    webhook(call_event("call.answered", "v3:nobody", at=T0 + timedelta(seconds=1), to=TRACKING, **{"from": ""}))

    dial = next(r["body"] for r in telnyx_api.requests if r["path"] == "/v2/calls")
    assert (dial["from"], dial["to"]) == (TRACKING, "+13125550190")
