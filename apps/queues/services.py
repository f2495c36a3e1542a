"""Putting calls in queues: the entry point the IVR and the queue route use.

Deliberately small: the call is handed to the ``queue`` flow and enqueued in
the Telnyx queue of the same name; a :class:`QueueEntry` follows its stay.
Routing to agents, hold music and announcements build on this.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from apps.calls.models import Call
from apps.calls.services import call_command, call_log, call_set_flow
from apps.queues.models import Queue, QueueEntry

FLOW = "queue"


@transaction.atomic(savepoint=False)
def queue_enter(*, call: Call, queue: Queue) -> QueueEntry | None:
    """Enqueue a live call (locked by the caller) in ``queue``; ``None`` if the call has ended.

    Entering the same queue again while waiting in it returns the entry it
    already has: a replayed step never enqueues twice.
    """
    if call.status == Call.Status.ENDED:
        return None
    waiting = QueueEntry.objects.filter(call=call, queue=queue, status=QueueEntry.Status.WAITING).first()
    if waiting is not None:
        return waiting
    entry = QueueEntry.objects.create(call=call, queue=queue)
    call_set_flow(call=call, flow=FLOW, state={"queue": queue.pk, "entry": entry.pk})
    call_command(
        call=call,
        action="enqueue",
        body={"queue_name": queue.telnyx_name},
        client_state={"flow": FLOW, "queue": queue.pk, "entry": entry.pk},
        key=f"queue:{entry.pk}:enqueue",
    )
    call_log(call=call, kind="queue.enter", data={"queue": queue.pk, "name": queue.name, "entry": entry.pk})
    return entry


@transaction.atomic(savepoint=False)
def queue_entry_enqueued(*, entry: QueueEntry, at: datetime, position: int | None) -> None:
    """Telnyx put the call in the queue (``call.enqueued``)."""
    entry.entered_at = min(entry.entered_at, at) if entry.entered_at else at
    entry.position = position if entry.position is None else entry.position
    entry.save(update_fields=["entered_at", "position"])


@transaction.atomic(savepoint=False)
def queue_entry_left(*, entry: QueueEntry, at: datetime, reason: str) -> None:
    """The call left the queue (``call.dequeued``, or hung up). The first word wins."""
    if entry.status == QueueEntry.Status.LEFT:
        return
    entry.status, entry.left_at, entry.leave_reason = QueueEntry.Status.LEFT, at, reason[:32]
    entry.save(update_fields=["status", "left_at", "leave_reason"])
    call_log(call=entry.call, kind="queue.left", data={"queue": entry.queue_id, "reason": reason, "entry": entry.pk})
