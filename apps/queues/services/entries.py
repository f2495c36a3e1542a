"""Putting callers in queues and following their stay: the entry point the IVR and the queue route use.

The call is handed to the ``queue`` flow and enqueued in the Telnyx queue of
the same name (so Telnyx parks it and applies the maximum wait); a
:class:`QueueEntry` follows its stay. Which agent takes it is the
dispatcher's decision, not Telnyx's: the caller's place in line is the
entry's priority and ``place_at``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.agents.models import Agent
from apps.calls.models import Call
from apps.calls.services import call_command, call_log, call_set_flow
from apps.queues.models import Queue, QueueEntry
from apps.queues.realtime import queue_publish_on_commit
from apps.telnyx.models import TelnyxCommand

FLOW = "queue"


def caller_state(entry: QueueEntry, **extra) -> dict:
    """The client_state of every command sent to a queued caller's leg."""
    return {"flow": FLOW, "queue": entry.queue_id, "entry": entry.pk, **extra}


@transaction.atomic(savepoint=False)
def queue_enter(
    *,
    call: Call,
    queue: Queue,
    priority: int = 0,
    place_at: datetime | None = None,
    target_agent=None,
    depends_on: TelnyxCommand | None = None,
) -> QueueEntry | None:
    """Enqueue a live call (locked by the caller) in ``queue``; ``None`` if the call has ended.

    ``place_at`` keeps a place the caller already had (an overflow from
    another queue, a transfer); ``target_agent`` offers it to that agent
    only, for a while (see :func:`entry_target_until`). Entering the same
    queue again while waiting in it returns the entry it already has: a
    replayed step never enqueues twice.
    """
    if call.status == Call.Status.ENDED:
        return None
    waiting = QueueEntry.objects.filter(call=call, queue=queue, status__in=QueueEntry.LIVE).first()
    if waiting is not None:
        return waiting
    target_until = entry_target_until(agent=target_agent, queue=queue) if target_agent is not None else None
    if target_agent is not None and target_until is None:
        call_log(call=call, kind="queue.target_unavailable",
                 data={"queue": queue.pk, "agent": target_agent.name, "status": target_agent.status})
        target_agent = None  # away or offline: the queue takes the caller at once
    entry = QueueEntry.objects.create(
        call=call, queue=queue, priority=priority, place_at=place_at or timezone.now(), target_agent=target_agent,
        target_until=target_until,
    )
    call_set_flow(call=call, flow=FLOW, state={"queue": queue.pk, "entry": entry.pk})
    body = {"queue_name": queue.telnyx_name}
    if queue.max_wait_secs and queue.overflow_action != Queue.Overflow.NONE:
        # Telnyx takes the caller out of its queue after this long and sends
        # call.dequeued (reason "timeout"): that is when the overflow runs.
        body["max_wait_time_secs"] = queue.max_wait_secs
    call_command(
        call=call, action="enqueue", body=body, client_state=caller_state(entry),
        key=f"queue:{entry.pk}:enqueue", depends_on=depends_on,
    )
    call_log(call=call, kind="queue.enter", data={"queue": queue.pk, "name": queue.name, "entry": entry.pk})
    queue_publish_on_commit(queue.pk)
    return entry


def entry_target_until(*, agent: Agent, queue: Queue) -> datetime | None:
    """How long a caller meant for ``agent`` waits for them alone (``None``: not at all).

    An agent who is away or offline (or has no phone) is not coming soon:
    the caller goes to the whole queue at once. One who is free gets the
    call now; one busy with another call (ringing, talking, wrapping up)
    may become free soon. Either way, after the queue's ring timeout the
    dispatcher lets any member take the caller, so nobody waits on one
    person for long; if the agent's phone rings out, the offer's failure
    does the same sooner.
    """
    status = Agent.objects.filter(pk=agent.pk).values_list("status", flat=True).first()  # now, not when read
    agent.status = status or agent.status
    if status in (None, Agent.Status.OFFLINE, Agent.Status.AWAY) or not agent.dial_target:
        return None
    return timezone.now() + timedelta(seconds=queue.ring_timeout_secs)


@transaction.atomic(savepoint=False)
def queue_entry_enqueued(*, entry: QueueEntry, at: datetime, position: int | None) -> bool:
    """Telnyx put the call in the queue (``call.enqueued``); returns whether this is news."""
    first = entry.entered_at is None
    entry.entered_at = min(entry.entered_at, at) if entry.entered_at else at
    entry.position = position if entry.position is None else entry.position
    fields = ["entered_at", "position"]
    if first and entry.status == QueueEntry.Status.WAITING and entry.queue.announce_every_secs:
        entry.next_announcement_at = timezone.now() + timedelta(seconds=entry.queue.announce_every_secs)
        fields.append("next_announcement_at")
    entry.save(update_fields=fields)
    return first


@transaction.atomic(savepoint=False)
def queue_entry_left(*, entry: QueueEntry, at: datetime | None = None, reason: str) -> bool:
    """The caller left the queue (answered, hung up, overflowed...). The first word wins."""
    if entry.status == QueueEntry.Status.LEFT:
        return False
    entry.status, entry.left_at, entry.leave_reason = QueueEntry.Status.LEFT, at or timezone.now(), reason[:32]
    entry.next_announcement_at = None
    entry.save(update_fields=["status", "left_at", "leave_reason", "next_announcement_at"])
    call_log(call=entry.call, kind="queue.left", data={"queue": entry.queue_id, "reason": reason, "entry": entry.pk})
    queue_publish_on_commit(entry.queue_id)
    return True


@transaction.atomic
def queue_entry_set_priority(*, entry: QueueEntry, priority: int, user) -> QueueEntry:
    """A supervisor moves a waiting caller up (or down) the line."""
    from apps.core.exceptions import ApplicationError
    from apps.queues.services.dispatch import dispatch_wake

    entry = QueueEntry.objects.select_for_update(no_key=True).get(pk=entry.pk)
    if entry.status == QueueEntry.Status.LEFT:
        raise ApplicationError("This caller is no longer waiting.")
    entry.priority = priority
    entry.save(update_fields=["priority"])
    call_log(call=entry.call, kind="queue.priority", data={"entry": entry.pk, "priority": priority},
             actor=user, source="user")
    queue_publish_on_commit(entry.queue_id)
    dispatch_wake()
    return entry
