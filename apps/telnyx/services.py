"""Storing and processing webhook events; recording and finishing commands."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import traceback as tb
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pydantic import ValidationError

from apps.core.db import RowLock, insert_ignoring_conflict
from apps.telnyx.client import COMMANDS, TelnyxError
from apps.telnyx.dispatch import handlers_for
from apps.telnyx.events import parse_event
from apps.telnyx.models import TelnyxCommand, TelnyxEvent

logger = logging.getLogger(__name__)

EVENT_MAX_ATTEMPTS = 5
STORED_HEADERS = ("telnyx-signature-ed25519", "telnyx-timestamp", "user-agent")


# --- Webhook events ----------------------------------------------------------
def event_store(*, body: dict, headers: dict) -> tuple[int | None, bool]:
    """Store a verified delivery once; returns ``(event pk, created)``.

    The unique event id decides duplicates: a second delivery of the same
    event inserts nothing and is acknowledged without being processed.
    This is the webhook hot path, so it is one ``INSERT ... ON CONFLICT DO
    NOTHING RETURNING`` in autocommit mode: no savepoint, no extra round
    trips. The row is committed when the statement returns, and only then is
    processing queued.
    """
    data = body["data"]
    payload = data.get("payload") or {}
    pk = insert_ignoring_conflict(
        TelnyxEvent,
        {
            "event_id": str(data["id"]),
            "event_type": str(data["event_type"]),
            "occurred_at": _parse_time(data.get("occurred_at")),
            "call_control_id": str(payload.get("call_control_id") or "")[:255],
            "body": body,
            "headers": {k: v for k, v in headers.items() if k.lower() in STORED_HEADERS},
        },
        conflict="event_id",
    )
    if pk is None:
        return None, False
    transaction.on_commit(partial(event_enqueue, pk))
    return pk, True


def event_enqueue(event_pk: int) -> None:
    """Hand an event to a worker (batched with others that arrive at the same time)."""
    _event_batcher.add(event_pk)


def events_publish(event_pks: list[int]) -> None:
    """Queue one processing task for these events; if the broker is down the sweep will."""
    from apps.telnyx.tasks import telnyx_events_process_task

    try:
        telnyx_events_process_task.delay(event_pks)
    except Exception:
        # Never fail the webhook for this: the events are committed and
        # telnyx_events_sweep finds unprocessed events when Redis is back.
        logger.warning("could not queue events %s; the sweep will process them", event_pks, exc_info=True)


class _EventBatcher:
    """Publishes event-processing tasks from a background thread, a few events per task.

    Publishing one Celery message costs over a millisecond of CPU, a third of
    the webhook view's own work. So each process publishes at most once per
    window: an event arriving when nothing was published for a window goes
    out at once (no added latency when calm), and under load every event
    that arrived during the window goes out in one message. The webhook is
    answered as soon as its row is committed either way. Events in a batch that is lost (the
    process killed within the window) stay unprocessed in the database until
    the periodic sweep queues them. With eager Celery (tests, some demos) the
    event is processed at once, in the caller's thread.
    """

    MAX_BATCH = 100

    def __init__(self):
        self._pks: list[int] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._last_publish = 0.0

    def add(self, event_pk: int) -> None:
        from contactcenter.celery import app

        window = settings.TELNYX_EVENT_BATCH_WINDOW_MS / 1000
        if app.conf.task_always_eager or window <= 0:
            events_publish([event_pk])
            return
        with self._lock:
            self._pks.append(event_pk)
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, args=(window,), name="event-batcher", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self, window: float) -> None:
        while True:
            self._wake.wait()
            delay = self._last_publish + window - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._last_publish = time.monotonic()
            with self._lock:
                pks, self._pks = self._pks, []
                self._wake.clear()
            for start in range(0, len(pks), self.MAX_BATCH):
                events_publish(pks[start : start + self.MAX_BATCH])

    def flush(self) -> None:
        with self._lock:
            pks, self._pks = self._pks, []
        if pks:
            events_publish(pks)


_event_batcher = _EventBatcher()
atexit.register(_event_batcher.flush)


def event_process(*, event_pk: int) -> None:
    """Run the handlers of one stored event, at most once.

    The row is locked with SKIP LOCKED, so two workers handed the same event
    (a re-queue by the sweep, a redelivered task) never both process it, and
    handlers run in the same transaction that marks the event processed.
    """
    try:
        with transaction.atomic():
            record = _pending_event_lock.get(event_pk)
            if record is None:
                return
            event = parse_event(record.body, record)
            handlers = handlers_for(record.event_type)
            for handler in handlers:
                handler(event)
            record.status = TelnyxEvent.Status.PROCESSED if handlers else TelnyxEvent.Status.IGNORED
            record.processed_at = timezone.now()
            record.attempts += 1
            record.error = record.traceback = ""
            record.save(update_fields=["status", "processed_at", "attempts", "error", "traceback"])
    except Exception as exc:
        _event_failed(event_pk, exc, permanent=isinstance(exc, ValidationError))


_pending_event_lock = RowLock(TelnyxEvent, "id", skip_locked=True, where='"processed_at" IS NULL')


def _event_failed(event_pk: int, exc: Exception, *, permanent: bool) -> None:
    logger.exception("processing event %s failed", event_pk)
    with transaction.atomic():
        record = TelnyxEvent.objects.select_for_update().filter(pk=event_pk).first()
        if record is None:
            return
        record.attempts += 1
        record.error = f"{type(exc).__name__}: {exc}"[:2000]
        record.traceback = "".join(tb.format_exception(exc))[-10000:]
        # A payload that does not parse will never parse: fail at once. Other
        # errors (a deadlock, a database restart) get a few more sweeps.
        if permanent or record.attempts >= EVENT_MAX_ATTEMPTS:
            record.status = TelnyxEvent.Status.FAILED
        record.save(update_fields=["attempts", "error", "traceback", "status"])


def events_sweep(*, older_than: timedelta = timedelta(seconds=10)) -> int:
    """Queue every pending event stored before ``older_than`` ago; returns how many."""
    cutoff = timezone.now() - older_than
    pks = list(
        TelnyxEvent.objects.filter(
            processed_at__isnull=True, status=TelnyxEvent.Status.PENDING, received_at__lt=cutoff
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in pks:
        event_enqueue(pk)
    return len(pks)


def events_reprocess(*, pks) -> int:
    """Make failed (or any) events pending again and queue them."""
    count = TelnyxEvent.objects.filter(pk__in=pks).update(
        status=TelnyxEvent.Status.PENDING, processed_at=None, attempts=0, error="", traceback=""
    )
    for pk in pks:
        event_enqueue(pk)
    return count


def _parse_time(value):
    if not value:
        return None
    try:
        return parse_datetime(str(value))
    except ValueError:
        return None


# --- Commands ----------------------------------------------------------------
SuccessHook = Callable[[TelnyxCommand], None]
_success_hooks: dict[str, list[SuccessHook]] = {}
_failure_hooks: dict[str, list[SuccessHook]] = {}


def on_command_success(*actions: str):
    """Register a service to run (in a transaction) when a command succeeds."""

    def decorator(fn):
        for action in actions:
            _success_hooks.setdefault(action, []).append(fn)
        return fn

    return decorator


def on_command_failure(*actions: str):
    """Register a service to run when a command fails for good ("*" = any)."""

    def decorator(fn):
        for action in actions:
            _failure_hooks.setdefault(action, []).append(fn)
        return fn

    return decorator


def command_create(
    *,
    action: str,
    body: dict | None = None,
    call_control_id: str = "",
    conference_id: str = "",
    key: str | None = None,
    depends_on: TelnyxCommand | None = None,
) -> TelnyxCommand:
    """Record the intent to send a command; it is sent by a worker after commit.

    ``key`` names the intent so that recording it twice (a replayed step, a
    re-run handler) returns the first command instead of adding a second.
    With ``depends_on`` the command waits until that one has succeeded.
    """
    endpoint = COMMANDS[action]
    values = {
        "key": key or f"{action}:{call_control_id or conference_id}:{uuid.uuid4().hex}",
        "action": action,
        "method": endpoint.method,
        "path": endpoint.path.format(call_control_id=call_control_id, conference_id=conference_id),
        "body": body or {},
        "call_control_id": call_control_id,
        "depends_on": depends_on,
        "command_id": uuid.uuid4(),
    }
    pk = insert_ignoring_conflict(TelnyxCommand, values, conflict="key")
    if pk is None:
        return TelnyxCommand.objects.get(key=values["key"])
    if depends_on is None:
        transaction.on_commit(partial(command_enqueue, pk))
    return TelnyxCommand(pk=pk, **values)


def command_enqueue(command_pk: int) -> None:
    from apps.telnyx.tasks import telnyx_command_send_task

    try:
        telnyx_command_send_task.delay(command_pk)
    except Exception:
        logger.warning("could not queue command %s; the sweep will send it", command_pk, exc_info=True)


# Telnyx ignores a repeated command_id for 60 s. Past that, a repeat of a command
# that may have got through (a timeout, a 5xx) could be applied a second time, so
# a command is only ever re-sent within this much of its first attempt; after it,
# it fails and its domain is told (a margin for clocks and the request in flight).
RESEND_WINDOW = timedelta(seconds=50)
# The longest one task run spends sending (the client's attempts and pauses);
# a command still "sending" after this lost its worker and may be sent again.
SEND_LEASE = timedelta(seconds=15)
NOT_RESENT = (
    "no answer from Telnyx within the 60 s in which it ignores a repeated command_id; "
    "not sent again, so that it cannot be applied twice"
)


def command_claim(*, command_pk: int) -> TelnyxCommand | None:
    """Mark a command as being sent; ``None`` if it is finished, not ready, being
    sent by another worker, or too late to send again (then it is failed)."""
    now = timezone.now()
    with transaction.atomic():
        command = (
            TelnyxCommand.objects.select_for_update(of=("self",))
            .select_related("depends_on")
            .filter(pk=command_pk)
            .first()
        )
        if command is None or command.status in (TelnyxCommand.Status.SUCCEEDED, TelnyxCommand.Status.FAILED):
            return None
        if command.depends_on and command.depends_on.status != TelnyxCommand.Status.SUCCEEDED:
            return None
        if command.status == TelnyxCommand.Status.SENDING and command.next_attempt_at and command.next_attempt_at > now:
            return None  # a second delivery of the task while the first is still sending
        too_late = command.sent_at is not None and now - command.sent_at > RESEND_WINDOW
        if not too_late:
            command.status = TelnyxCommand.Status.SENDING
            command.attempts += 1
            command.sent_at = command.sent_at or now
            command.next_attempt_at = now + SEND_LEASE
            command.save(update_fields=["status", "attempts", "sent_at", "next_attempt_at"])
            return command
    command_fail(command_pk=command_pk, error=NOT_RESENT)
    return None


def command_resend_budget(command: TelnyxCommand) -> float:
    """Seconds left in which this command may still be (re-)sent."""
    return max((command.sent_at + RESEND_WINDOW - timezone.now()).total_seconds(), 0.0)


@transaction.atomic
def command_succeed(*, command_pk: int, status: int, response: dict) -> None:
    command = TelnyxCommand.objects.select_for_update().get(pk=command_pk)
    if command.status == TelnyxCommand.Status.SUCCEEDED:
        return
    command.status = TelnyxCommand.Status.SUCCEEDED
    command.response_status = status
    command.response = response
    command.error = ""
    command.finished_at = timezone.now()
    command.save(update_fields=["status", "response_status", "response", "error", "finished_at"])
    for hook in _success_hooks.get(command.action, []):
        hook(command)
    for child_pk in command.dependents.filter(status=TelnyxCommand.Status.QUEUED).values_list("pk", flat=True):
        transaction.on_commit(partial(command_enqueue, child_pk))


def command_retry_later(*, command_pk: int, error: TelnyxError, countdown: float) -> None:
    """Note a transient failure; the task's own retry sends it again after ``countdown``."""
    TelnyxCommand.objects.filter(pk=command_pk).exclude(status=TelnyxCommand.Status.SUCCEEDED).update(
        status=TelnyxCommand.Status.QUEUED,
        error=error.message[:2000],
        response_status=error.status,
        next_attempt_at=timezone.now() + timedelta(seconds=countdown),
    )


@transaction.atomic
def command_fail(*, command_pk: int, error: TelnyxError | str) -> None:
    """A command that will not be sent again: record why and let its domain react.

    Dependent commands fail with it, so nothing waits forever on a parent
    that will never succeed.
    """
    command = TelnyxCommand.objects.select_for_update().get(pk=command_pk)
    if command.status in (TelnyxCommand.Status.SUCCEEDED, TelnyxCommand.Status.FAILED):
        return
    message = error.message if isinstance(error, TelnyxError) else str(error)
    command.status = TelnyxCommand.Status.FAILED
    command.error = message[:2000]
    if isinstance(error, TelnyxError):
        command.response_status = error.status
        command.response = error.body
    command.finished_at = timezone.now()
    command.save(update_fields=["status", "error", "response_status", "response", "finished_at"])
    logger.warning("telnyx command %s %s failed: %s", command.action, command.command_id, message)
    for hook in _failure_hooks.get(command.action, []) + _failure_hooks.get("*", []):
        hook(command)
    for child in command.dependents.exclude(status=TelnyxCommand.Status.FAILED):
        command_fail(command_pk=child.pk, error=f"not sent: {command.action} it depends on failed")


def commands_sweep(
    *, stuck_after: timedelta = timedelta(seconds=30), expire_after: timedelta = timedelta(minutes=5)
) -> int:
    """Re-queue commands whose task was lost; fail the ones too late to send.

    A command can be left queued if Redis was down when its transaction
    committed, or left sending if its worker died. One never sent is safe to
    send until ``expire_after`` (then the call it was for has long moved on).
    One already sent is re-sent, with its command_id, only within
    ``RESEND_WINDOW`` of its first attempt. A command whose retry is pending, or
    whose send is still in progress, is left to its task.
    """
    now = timezone.now()
    stale = (
        TelnyxCommand.objects.filter(
            status__in=[TelnyxCommand.Status.QUEUED, TelnyxCommand.Status.SENDING], created_at__lt=now - stuck_after
        )
        .exclude(depends_on__status__in=[TelnyxCommand.Status.QUEUED, TelnyxCommand.Status.SENDING])
        .exclude(next_attempt_at__gte=now - SWEEP_GRACE)
    )
    count = 0
    for pk, created_at, sent_at in stale.values_list("pk", "created_at", "sent_at")[:1000]:
        if sent_at is None and created_at < now - expire_after:
            command_fail(command_pk=pk, error="expired: not delivered to Telnyx in time")
        elif sent_at is not None and now - sent_at > RESEND_WINDOW:
            command_fail(command_pk=pk, error=NOT_RESENT)
        else:
            command_enqueue(pk)
            count += 1
    return count


# How late a due retry may run before the sweep decides its task was lost
# (a busy worker takes a moment to pick up a retry whose countdown ended).
SWEEP_GRACE = timedelta(seconds=10)
