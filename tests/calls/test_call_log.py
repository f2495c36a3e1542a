"""The call log: every call as the caller lived it, with where it came from."""

from datetime import timedelta

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from apps.calls.models import Call
from apps.recordings.models import Recording
from apps.telnyx.client import TelnyxClient
from tests.factories import CallFactory, PhoneNumberFactory
from tests.telnyx_webhooks import T0, call_event

TRACKING = "+13125550110"


@pytest.fixture
def lookups(telnyx_api, monkeypatch):
    """Number Lookup answers from the Telnyx edge recorder (no caller names by default)."""
    client = TelnyxClient(base_url="https://api.telnyx.test/v2", api_key="KEY_test",
                          transport=httpx.MockTransport(telnyx_api.handler))
    monkeypatch.setattr("apps.numbers.numbers_api.get_client", lambda: client)
    yield telnyx_api
    client.close()


@pytest.fixture
def supervisor_client(supervisor_user):
    client = Client()
    client.force_login(supervisor_user)
    return client


def _initiated(ccid, caller, at):
    return call_event("call.initiated", ccid, at=at, to=TRACKING, **{"from": caller})


@pytest.mark.django_db(transaction=True)
def test_a_new_inbound_call_keeps_its_numbers_source_and_knows_a_repeat_caller(webhook, lookups):
    number = PhoneNumberFactory(e164=TRACKING, tracking_source="Google Ads", tracking_campaign="spring",
                                greeting="Hello")
    webhook(_initiated("v3:first", "+13125550177", T0))
    number.tracking_source = "Billboard 12"  # changed between the two calls
    number.save()
    webhook(_initiated("v3:again", "+13125550177", T0 + timedelta(hours=1)))
    webhook(_initiated("v3:other", "+13125550188", T0 + timedelta(hours=2)))

    first, again, other = (Call.objects.get(call_control_id=c) for c in ("v3:first", "v3:again", "v3:other"))
    assert (first.tracking_source, first.tracking_campaign, first.destination) == ("Google Ads", "spring", "Greeting message")
    assert again.tracking_source == "Billboard 12"
    assert [first.first_time_caller, again.first_time_caller, other.first_time_caller] == [True, False, True]
    lookups_sent = [r["path"] for r in lookups.requests if "number_lookup" in r["path"]]
    assert lookups_sent == ["/v2/number_lookup/+13125550177", "/v2/number_lookup/+13125550188"]


@pytest.mark.django_db(transaction=True)
def test_a_caller_is_new_by_when_they_called_even_if_the_events_arrive_late(webhook, lookups):
    PhoneNumberFactory(e164=TRACKING)
    webhook(_initiated("v3:later", "+13125550177", T0 + timedelta(hours=1)))
    webhook(_initiated("v3:earlier-but-late", "+13125550177", T0))
    # The call that truly came first is the new caller; the other becomes a repeat.
    assert Call.objects.get(call_control_id="v3:earlier-but-late").first_time_caller is True
    assert Call.objects.get(call_control_id="v3:later").first_time_caller is False


@pytest.mark.django_db
def test_talk_time_runs_from_the_connection_and_a_late_bridge_still_counts():
    start = timezone.now() - timedelta(minutes=5)
    call = CallFactory(initiated_at=start, answered_at=start + timedelta(seconds=1), status=Call.Status.ENDED,
                       outcome=Call.Outcome.ANSWERED, ended_at=start + timedelta(seconds=95),
                       connect_failure=Call.Outcome.ABANDONED)
    assert (call.caller_outcome, call.talk_seconds) == ("abandoned", 0)

    call.connected_at = start + timedelta(seconds=15)  # call.bridged processed after the hang-up
    call.save(update_fields=["connected_at"])

    call.refresh_from_db()
    assert (call.caller_outcome, call.talk_seconds) == ("answered", 80)
    assert call.caller_answered_at == start + timedelta(seconds=15)


@pytest.mark.django_db
def test_an_inbound_call_only_the_system_answered_is_self_service_without_talk_time():
    start = timezone.now() - timedelta(minutes=5)
    call = CallFactory(initiated_at=start, answered_at=start + timedelta(seconds=2), status=Call.Status.ENDED,
                       outcome=Call.Outcome.ANSWERED, ended_at=start + timedelta(seconds=32), flow="ivr")
    assert (call.caller_outcome, call.talk_seconds, call.caller_answered_at) == ("self_service", 0, None)

    call.connected_at = start + timedelta(seconds=12)  # the IVR put them through to someone after all
    call.save(update_fields=["connected_at"])
    assert (call.caller_outcome, call.talk_seconds, call.caller_answered_at) == ("answered", 20, call.connected_at)


@pytest.mark.django_db
def test_a_call_we_placed_keeps_its_own_outcome_and_answered_time():
    start = timezone.now() - timedelta(minutes=5)
    call = CallFactory(direction=Call.Direction.OUTBOUND, initiated_at=start, answered_at=start + timedelta(seconds=2),
                       status=Call.Status.ENDED, outcome=Call.Outcome.ANSWERED, ended_at=start + timedelta(seconds=32))
    assert (call.caller_outcome, call.talk_seconds, call.caller_answered_at) == ("answered", 30, call.answered_at)
    missed = CallFactory(direction=Call.Direction.INBOUND, initiated_at=start, status=Call.Status.ENDED,
                         outcome=Call.Outcome.ABANDONED, ended_at=start + timedelta(seconds=9))
    assert (missed.caller_outcome, missed.talk_seconds) == ("abandoned", 0)  # hung up before anything answered


@pytest.mark.django_db
def test_the_migration_re_derives_calls_logged_as_answered_by_the_system():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("apps.calls.migrations.0004_call_outcome_self_service")
    start = timezone.now() - timedelta(minutes=5)
    facts = {"initiated_at": start, "answered_at": start + timedelta(seconds=1), "status": Call.Status.ENDED,
             "outcome": Call.Outcome.ANSWERED, "ended_at": start + timedelta(seconds=61)}
    greeting, ivr_forward, forwarded = (CallFactory(**facts) for _ in range(3))
    forwarded.connected_at = start + timedelta(seconds=11)
    forwarded.save()
    CallFactory(parent=ivr_forward, direction=Call.Direction.OUTBOUND, status=Call.Status.ENDED,
                answered_at=start + timedelta(seconds=21))  # the desk an IVR forwarded to picked up
    # As the old rule logged them: answered by the system, its time as talk time.
    Call.objects.filter(pk__in=[greeting.pk, ivr_forward.pk]).update(caller_outcome="answered", talk_seconds=60)

    migration.answered_means_a_person(apps, None)

    rows = {c.pk: (c.caller_outcome, c.talk_seconds) for c in Call.objects.filter(parent__isnull=True)}
    assert rows == {greeting.pk: ("self_service", 0), ivr_forward.pk: ("answered", 40),
                    forwarded.pk: ("answered", 50)}
    assert Call.objects.get(pk=ivr_forward.pk).connected_at == start + timedelta(seconds=21)


@pytest.fixture
def log(db):
    now = timezone.now()
    ads = PhoneNumberFactory(e164=TRACKING, label="Ads line", tracking_source="Google Ads")
    billboard = PhoneNumberFactory(e164="+13125550111", tracking_source="Billboard 12")

    def call(number, minutes_ago, caller, outcome, first, **extra):
        start = now - timedelta(minutes=minutes_ago)
        return CallFactory(
            phone_number=number, to_number=number.e164, from_number=caller, tracking_source=number.tracking_source,
            initiated_at=start, answered_at=start + timedelta(seconds=1), status=Call.Status.ENDED,
            outcome=Call.Outcome.ANSWERED, ended_at=start + timedelta(seconds=70), first_time_caller=first,
            destination="+13125550190", **({"connected_at": start + timedelta(seconds=10)} if outcome == "answered"
                                           else {"connect_failure": outcome}), **extra,
        )

    answered = call(ads, 30, "+13125550177", "answered", True, caller_name="GRACE HOPPER")
    busy = call(billboard, 20, "+13125550177", "busy", False)
    missed = call(ads, 10, "+13125550188", "no_answer", True)
    CallFactory(parent=answered, direction=Call.Direction.OUTBOUND, to_number="+13125550190",
                initiated_at=now - timedelta(minutes=30))  # the forward leg: part of its call's row
    outbound = CallFactory(direction=Call.Direction.OUTBOUND, from_number=TRACKING, to_number="+13125550199",
                           initiated_at=now - timedelta(minutes=5))
    recording = Recording.objects.create(call=answered, telnyx_recording_id="rec-1", status="stored",
                                         file="recordings/x.mp3")
    return {"answered": answered, "busy": busy, "missed": missed, "outbound": outbound, "recording": recording}


def test_the_log_lists_each_call_once_with_source_caller_outcome_talk_and_recording(supervisor_client, log):
    rows = supervisor_client.get("/api/call-log/").json()["results"]

    assert [r["id"] for r in rows] == [log[k].pk for k in ("outbound", "missed", "busy", "answered")]
    answered = rows[-1]
    assert answered["caller_name"] == "GRACE HOPPER" and answered["first_time_caller"] is True
    assert (answered["tracking_number"], answered["tracking_label"], answered["tracking_source"]) == (
        TRACKING, "Ads line", "Google Ads")
    assert (answered["outcome"], answered["talk_seconds"], answered["destination"]) == ("answered", 60, "+13125550190")
    assert answered["recordings"] == [{"id": log["recording"].pk, "purpose": "call",
                                       "url": f"/recordings/{log['recording'].pk}/audio/"}]
    assert rows[-2]["outcome"] == "busy" and rows[-2]["first_time_caller"] is False
    assert rows[0]["direction"] == "outbound"


@pytest.mark.parametrize("query, expected", [
    ({"source": "Google Ads"}, ["missed", "answered"]),
    ({"source": "(none)"}, ["outbound"]),
    ({"outcome": "busy"}, ["busy"]),
    ({"first_time": "yes"}, ["missed", "answered"]),
    ({"caller": "hopper"}, ["answered"]),
    ({"number": "+13125550111"}, ["busy"]),
    ({"direction": "outbound"}, ["outbound"]),
])
def test_the_log_filters(supervisor_client, log, query, expected):
    rows = supervisor_client.get("/api/call-log/", query).json()["results"]
    assert [r["id"] for r in rows] == [log[k].pk for k in expected]


def test_the_log_page_shows_the_same_calls_with_a_recording_link(supervisor_client, log):
    page = supervisor_client.get("/call-log/", {"source": "Google Ads"}).content.decode()
    assert f'data-call-id="{log["answered"].pk}"' in page and f'data-call-id="{log["missed"].pk}"' in page
    assert f'data-call-id="{log["busy"].pk}"' not in page
    assert "GRACE HOPPER" in page and "first call" in page
    assert f'href="/recordings/{log["recording"].pk}/audio/"' in page
    assert "No answer" in page


def test_the_calls_of_a_released_number_stay_in_the_log(supervisor_client, log):
    log["answered"].phone_number.status = "released"
    log["answered"].phone_number.save()
    rows = supervisor_client.get("/api/call-log/", {"number": TRACKING}).json()["results"]
    assert [r["id"] for r in rows] == [log["missed"].pk, log["answered"].pk]
