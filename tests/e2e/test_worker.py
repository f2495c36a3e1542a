"""With a real Celery worker and Redis: no event is lost while either is away."""

import os
import time
from datetime import timedelta

import pytest

from apps.calls.models import Call
from apps.telnyx.models import TelnyxCommand, TelnyxEvent
from apps.telnyx.services import events_sweep
from tests.factories import PhoneNumberFactory
from tests.worker import use_broker

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

MAIN_LINE = "+13125550100"


@pytest.fixture
def main_line(db):
    return PhoneNumberFactory(e164=MAIN_LINE)


def _stored_unprocessed(center, ccid):
    return center.wait_for(
        lambda: TelnyxEvent.objects.filter(call_control_id=ccid, event_type="call.initiated",
                                           processed_at__isnull=True).first(),
        message="call.initiated to be stored",
    )


def test_a_worker_answers_the_call(center, main_line, celery_worker_process):
    celery_worker_process.start()
    ccid = center.sandbox.place_call(from_="+15551230001", to=MAIN_LINE)["call_control_id"]
    center.sandbox.wait_for_event(ccid, "call.hangup", timeout=20)
    call = center.wait_for(lambda: Call.objects.filter(call_control_id=ccid, status="ended").first(), timeout=20)
    assert call.outcome == Call.Outcome.ANSWERED
    assert [c["action"] for c in center.sandbox.commands(call_control_id=ccid)] == ["answer", "speak", "hangup"]


def test_one_worker_per_queue_as_docker_compose_runs_them(center, main_line, celery_worker_process):
    celery_worker_process.start("celery")  # events and routing only
    ccid = center.sandbox.place_call(from_="+15551230001", to=MAIN_LINE)["call_control_id"]
    answer = center.wait_for(
        lambda: TelnyxCommand.objects.filter(call_control_id=ccid, action="answer").first(),
        message="the event worker to decide to answer",
    )
    time.sleep(1)  # long enough for a worker of the default queue to have sent it, were it routed there
    answer.refresh_from_db()
    assert answer.status == TelnyxCommand.Status.QUEUED
    assert center.sandbox.commands(call_control_id=ccid) == []

    celery_worker_process.start("telnyx")  # the API worker sends what waited
    center.sandbox.wait_for_event(ccid, "call.hangup", timeout=20)
    assert [c["action"] for c in center.sandbox.commands(call_control_id=ccid)] == ["answer", "speak", "hangup"]


def test_an_event_stored_while_the_worker_is_down_is_processed_when_it_returns(center, main_line,
                                                                                celery_worker_process):
    ccid = center.sandbox.place_call(from_="+15551230001", to=MAIN_LINE)["call_control_id"]
    _stored_unprocessed(center, ccid)
    assert center.sandbox.commands(call_control_id=ccid) == []  # nobody is working

    celery_worker_process.start()
    center.sandbox.wait_for_event(ccid, "call.answered", timeout=20)
    assert TelnyxEvent.objects.get(call_control_id=ccid, event_type="call.initiated").processed_at is not None


def test_an_event_stored_while_redis_is_down_is_processed_by_the_sweep(center, main_line, celery_worker_process):
    celery_worker_process.start()
    redis_url = os.environ["REDIS_URL"]
    use_broker("redis://127.0.0.1:1/0")  # nothing listens: publishing fails at once
    ccid = center.sandbox.place_call(from_="+15551230001", to=MAIN_LINE)["call_control_id"]
    event = _stored_unprocessed(center, ccid)
    delivery = center.sandbox.wait_for(lambda: center.sandbox.webhooks(event_id=event.event_id))
    assert delivery[0]["status"] == 200  # acknowledged although it could not be queued

    use_broker(redis_url)  # Redis is back; beat's sweep runs
    assert events_sweep(older_than=timedelta(0)) >= 1
    center.sandbox.wait_for_event(ccid, "call.answered", timeout=20)
    event.refresh_from_db()
    assert event.status == TelnyxEvent.Status.PROCESSED
