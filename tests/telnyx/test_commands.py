"""Commands to Telnyx: which failures are retried, with which id, and for how long.

Telnyx ignores a repeated ``command_id`` for 60 s, so a command that may have
got through is only ever repeated inside that window; past it, it fails and is
surfaced instead of being applied twice.
"""

import json
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from apps.telnyx import services
from apps.telnyx.client import COMMANDS, TelnyxClient, TelnyxError
from apps.telnyx.models import TelnyxCommand
from apps.telnyx.tasks import telnyx_command_send_task
from contactcenter.celery import app as celery_app

CCID = "v3:call-under-test"


class ScriptedTelnyx:
    """The Telnyx HTTP edge: answers from a script, then 200; records every request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[dict] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content or b"{}"))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, json={"data": {"result": "ok"}} if answer < 400 else {"errors": [{}]})

    @property
    def command_ids(self) -> list[str]:
        return [r.get("command_id") for r in self.requests]


def _client(telnyx: ScriptedTelnyx) -> TelnyxClient:
    return TelnyxClient(base_url="https://api.telnyx.test/v2", api_key="KEY_test",
                        transport=httpx.MockTransport(telnyx.handler))


@pytest.fixture
def telnyx(monkeypatch):
    """Telnyx as the tasks see it: 200 unless a test scripts other answers."""
    edge = ScriptedTelnyx()
    client = _client(edge)
    monkeypatch.setattr("apps.telnyx.tasks.get_client", lambda: client)
    yield edge
    client.close()


@pytest.mark.parametrize("failure", [
    408, 429, 500, 503, 504, 520, 524, httpx.ConnectError("refused"), httpx.ReadTimeout("no answer in 500 ms"),
])
def test_the_client_repeats_a_transient_failure_with_the_same_command_id(failure):
    telnyx = ScriptedTelnyx(failure)
    status, _ = _client(telnyx).command("POST", "/calls/x/actions/answer", {}, command_id="id-1")
    assert status == 200
    assert telnyx.command_ids == ["id-1", "id-1"]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_the_client_does_not_repeat_another_4xx(status):
    telnyx = ScriptedTelnyx(status)
    with pytest.raises(TelnyxError) as failed:
        _client(telnyx).command("POST", "/calls/x/actions/answer", {}, command_id="id-1")
    assert failed.value.permanent and failed.value.status == status
    assert len(telnyx.requests) == 1


def test_the_client_starts_no_attempt_past_its_budget():
    telnyx = ScriptedTelnyx(*[503] * 10)
    with pytest.raises(TelnyxError):
        _client(telnyx).command("POST", "/calls/x/actions/answer", {}, command_id="id-1", budget=0.2)
    assert len(telnyx.requests) == 1


def _command(**fields) -> TelnyxCommand:
    endpoint = COMMANDS["answer"]
    return TelnyxCommand.objects.create(
        key=f"answer:{CCID}", action="answer", method=endpoint.method,
        path=endpoint.path.format(call_control_id=CCID), call_control_id=CCID, **fields,
    )


def _ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def _send_with_retries(command: TelnyxCommand, monkeypatch) -> None:
    """Run the send task eagerly; each retry it asks for runs at once (no countdown). The
    last run must end cleanly: a failed command is recorded, not a crashed task."""
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    result = telnyx_command_send_task.apply(args=[command.pk])
    assert result.successful(), result.traceback


def test_a_command_that_keeps_failing_is_failed_with_the_reason_and_its_id_never_changes(db, telnyx, monkeypatch):
    telnyx.answers = [503] * 100
    command = _command()
    _send_with_retries(command, monkeypatch)

    command.refresh_from_db()
    assert command.status == TelnyxCommand.Status.FAILED
    assert "HTTP 503" in command.error
    assert set(telnyx.command_ids) == {str(command.command_id)}
    assert command.attempts == 6  # the first run and five retries


def test_a_command_telnyx_refuses_is_failed_once_and_the_task_ends_cleanly(db, telnyx, monkeypatch):
    telnyx.answers = [422]
    command = _command()
    _send_with_retries(command, monkeypatch)

    command.refresh_from_db()
    assert (command.status, command.response_status, command.attempts) == (TelnyxCommand.Status.FAILED, 422, 1)
    assert len(telnyx.requests) == 1


def test_a_retry_that_would_land_after_the_window_fails_instead(db, telnyx, monkeypatch):
    telnyx.answers = [503] * 100
    command = _command(status="queued", attempts=1, sent_at=_ago(46))  # a retry arriving late
    _send_with_retries(command, monkeypatch)

    command.refresh_from_db()
    assert command.status == TelnyxCommand.Status.FAILED
    assert services.NOT_RESENT in command.error
    assert telnyx.requests  # it did try while it still could


def test_a_task_delivered_again_long_after_the_first_send_sends_nothing(db, telnyx):
    # A worker died mid-send; the broker hands the task out again much later.
    command = _command(status="sending", attempts=1, sent_at=_ago(70), next_attempt_at=_ago(55))
    telnyx_command_send_task.delay(command.pk)

    command.refresh_from_db()
    assert telnyx.requests == []
    assert command.status == TelnyxCommand.Status.FAILED
    assert command.error == services.NOT_RESENT


def test_a_second_delivery_while_the_first_is_sending_sends_nothing(db, telnyx):
    command = _command(status="sending", attempts=1, sent_at=_ago(1), next_attempt_at=timezone.now() + timedelta(seconds=10))
    telnyx_command_send_task.delay(command.pk)

    command.refresh_from_db()
    assert telnyx.requests == []
    assert command.status == TelnyxCommand.Status.SENDING


def test_the_sweep_sends_a_command_whose_task_was_lost(db, telnyx):
    command = _command(created_at=_ago(40))  # queued while Redis was down
    assert services.commands_sweep() == 1

    command.refresh_from_db()
    assert command.status == TelnyxCommand.Status.SUCCEEDED
    assert telnyx.command_ids == [str(command.command_id)]


def test_the_sweep_leaves_a_command_whose_retry_is_pending(db, telnyx):
    command = _command(created_at=_ago(40), status="queued", attempts=2, sent_at=_ago(20),
                       next_attempt_at=timezone.now() + timedelta(seconds=8))
    assert services.commands_sweep() == 0

    command.refresh_from_db()
    assert telnyx.requests == []
    assert command.status == TelnyxCommand.Status.QUEUED


def test_the_sweep_resends_within_the_window_a_command_whose_worker_died(db, telnyx):
    command = _command(created_at=_ago(40), status="sending", attempts=1, sent_at=_ago(30), next_attempt_at=_ago(15))
    assert services.commands_sweep() == 1

    command.refresh_from_db()
    assert command.status == TelnyxCommand.Status.SUCCEEDED
    assert telnyx.command_ids == [str(command.command_id)]


def test_the_sweep_fails_rather_than_resends_a_command_sent_before_the_window(db, telnyx):
    command = _command(created_at=_ago(90), status="sending", attempts=1, sent_at=_ago(70), next_attempt_at=_ago(55))
    assert services.commands_sweep() == 0

    command.refresh_from_db()
    assert telnyx.requests == []
    assert command.status == TelnyxCommand.Status.FAILED
    assert command.error == services.NOT_RESENT


def test_the_sweep_fails_a_command_never_sent_once_it_has_expired(db, telnyx):
    command = _command(created_at=_ago(301))
    services.commands_sweep()

    command.refresh_from_db()
    assert telnyx.requests == []
    assert command.status == TelnyxCommand.Status.FAILED
    assert command.error.startswith("expired")
