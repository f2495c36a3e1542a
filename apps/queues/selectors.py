"""Reading queues: the line of waiting callers, queue figures, and what an agent sees of a call."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Avg, Count, F, Q, QuerySet
from django.utils import timezone

from apps.agents.models import Agent
from apps.calls.models import Call
from apps.queues.models import Offer, Queue, QueueEntry

# Without history, a call is assumed to take this long when estimating waits.
DEFAULT_HANDLE_SECS = 180
PREVIOUS_CALLS = 5


def queue_list() -> QuerySet[Queue]:
    return Queue.objects.prefetch_related("memberships__agent__user", "required_skills__skill")


def queue_line(queue: Queue) -> QuerySet[QueueEntry]:
    """Callers still waiting in ``queue`` (ringing an agent included), in the order they are served."""
    return (
        QueueEntry.objects.filter(queue=queue, status__in=QueueEntry.LIVE)
        .select_related("call")
        .order_by("-priority", "place_at", "pk")
    )


def queue_failed_callbacks(queue: Queue, *, days: int = 1) -> QuerySet[QueueEntry]:
    """Call-back requests of the last ``days`` that failed (the caller missed every call-back), newest first."""
    from apps.queues.services.customer import CALLBACK_FAILED

    return (
        QueueEntry.objects.filter(queue=queue, kind=QueueEntry.Kind.CALLBACK, leave_reason=CALLBACK_FAILED,
                                  left_at__gte=timezone.now() - timedelta(days=days))
        .select_related("call", "agent__user")
        .order_by("-left_at")
    )


def entry_position(entry: QueueEntry) -> int:
    """1 for the caller served next. Callers ahead: higher priority, or same priority and an earlier place."""
    ahead = QueueEntry.objects.filter(queue_id=entry.queue_id, status__in=QueueEntry.LIVE).filter(
        Q(priority__gt=entry.priority)
        | Q(priority=entry.priority, place_at__lt=entry.place_at)
        | Q(priority=entry.priority, place_at=entry.place_at, pk__lt=entry.pk)
    )
    return ahead.count() + 1


def queue_handle_secs(queue: Queue) -> int:
    """Average length of this queue's answered calls over the last day (a default without history)."""
    since = timezone.now() - timedelta(days=1)
    average = (
        Offer.objects.filter(entry__queue=queue, answered_at__gte=since, ended_at__isnull=False)
        .aggregate(avg=Avg(F("ended_at") - F("answered_at")))["avg"]
    )
    return int(average.total_seconds()) if average else DEFAULT_HANDLE_SECS


def estimated_wait_secs(entry: QueueEntry) -> int:
    """Roughly when this caller's turn comes: the calls ahead, shared among the agents serving the queue."""
    position = entry_position(entry)
    staffed = Agent.objects.filter(memberships__queue_id=entry.queue_id).exclude(
        status__in=[Agent.Status.OFFLINE, Agent.Status.AWAY]
    ).count()
    return int(position * queue_handle_secs(entry.queue) / max(staffed, 1))


def queue_stats(queue: Queue) -> dict:
    """What boards and workspaces show of a queue: who waits, who serves, today's service level."""
    now = timezone.now()
    live = QueueEntry.objects.filter(queue=queue, status__in=QueueEntry.LIVE)
    waiting = live.aggregate(
        count=Count("pk"),
        callbacks=Count("pk", filter=Q(kind=QueueEntry.Kind.CALLBACK)),
        ringing=Count("pk", filter=Q(status=QueueEntry.Status.OFFERED)),
    )
    oldest = live.filter(kind=QueueEntry.Kind.CALL).order_by("created_at").values_list("created_at", flat=True).first()
    agents = Agent.objects.filter(memberships__queue=queue).aggregate(
        total=Count("pk"),
        available=Count("pk", filter=Q(status=Agent.Status.AVAILABLE)),
        busy=Count("pk", filter=Q(status__in=[Agent.Status.RINGING, Agent.Status.ON_CALL, Agent.Status.WRAP_UP])),
    )
    # "Today" is the center's day (TIME_ZONE), not UTC's: a Chicago center's
    # figures must not roll over at 6 pm.
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    today = QueueEntry.objects.filter(queue=queue, kind=QueueEntry.Kind.CALL, status=QueueEntry.Status.LEFT,
                                      left_at__gte=start)
    finished = today.aggregate(
        answered=Count("pk", filter=Q(leave_reason="answered")),
        within=Count("pk", filter=Q(leave_reason="answered",
                                   answered_at__lte=F("created_at") + timedelta(seconds=queue.service_level_secs))),
        abandoned=Count("pk", filter=Q(leave_reason="hangup")),
        total=Count("pk"),
    )
    return {
        "id": queue.pk,
        "name": queue.name,
        "strategy": queue.strategy,
        "waiting": waiting["count"],
        "callbacks": waiting["callbacks"],
        "ringing": waiting["ringing"],
        "longest_wait_secs": int((now - oldest).total_seconds()) if oldest else 0,
        "agents": agents,
        "today": finished,
        "service_level_secs": queue.service_level_secs,
        "service_level": round(100 * finished["within"] / finished["total"]) if finished["total"] else None,
        "version": int(now.timestamp() * 1000),
    }


# --- What the agent sees of a call -----------------------------------------------------
def offer_card(offer: Offer) -> dict:
    """The incoming-call card: who calls, what they dialled, where they came from, what they did."""
    from apps.ivr.selectors import ivr_path

    entry = offer.entry
    call: Call = entry.call
    number = call.phone_number
    name = call.caller_name if call.caller_name and call.caller_name != call.from_number else ""
    return {
        "kind": entry.kind,
        "caller": {"number": entry.callback_number or call.from_number, "name": name},
        "dialled": {"number": call.to_number, "label": number.label if number else ""},
        "source": call.tracking_source,
        "campaign": call.tracking_campaign,
        "first_time_caller": call.first_time_caller,
        "queue": {"id": entry.queue_id, "name": entry.queue.name},
        "waited_since": entry.place_at,
        "ivr_path": [
            {"node": step.node_name or step.node_key, "kind": step.node_kind, "digits": step.digits,
             "speech": step.speech, "outcome": step.get_outcome_display() if step.outcome else ""}
            for step in ivr_path(call)
        ],
        "previous_calls": previous_calls(call),
    }


def previous_calls(call: Call, limit: int = PREVIOUS_CALLS) -> list[dict]:
    """Earlier calls from the same number, newest first, with who took them and how they ended."""
    if not call.from_number:
        return []
    earlier = (
        Call.objects.filter(from_number=call.from_number, parent__isnull=True, direction=Call.Direction.INBOUND)
        .exclude(pk=call.pk)
        .filter(initiated_at__lt=call.initiated_at or call.created_at)
        .order_by("-initiated_at")[:limit]
    )
    rows = []
    for past in earlier:
        taken = (
            Offer.objects.filter(entry__call=past, answered_at__isnull=False)
            .select_related("agent__user", "disposition").order_by("answered_at").last()
        )
        rows.append({
            "id": past.pk,
            "at": past.initiated_at,
            "outcome": past.get_caller_outcome_display() if past.caller_outcome else past.get_status_display(),
            "talk_seconds": past.talk_seconds,
            "agent": taken.agent.name if taken else "",
            "disposition": taken.disposition.name if taken and taken.disposition else "",
            "notes": taken.notes if taken else "",
        })
    return rows


# How long an ended call the agent has not wrapped up stays on their screen
# (its disposition can still be given once the wrap-up time is over).
UNWRAPPED_SHOWN_FOR = timedelta(hours=1)


def agent_current_offer(agent: Agent) -> Offer | None:
    """The call on the agent's screen: ringing or up; else the last one while they wrap it up, or,
    once wrap-up time is over (or the queue has none), until they give it a disposition."""
    live = Offer.objects.filter(agent=agent, status__in=Offer.LIVE).order_by("-created_at").first()
    if live is not None:
        return live
    last = Offer.objects.filter(agent=agent, answered_at__isnull=False).order_by("-answered_at").first()
    if last is None:
        return None
    if agent.status == Agent.Status.WRAP_UP:
        return last
    recent = last.ended_at is not None and last.ended_at > timezone.now() - UNWRAPPED_SHOWN_FOR
    return last if last.awaits_wrap_up and recent else None


def agent_queues(agent: Agent) -> QuerySet[Queue]:
    return Queue.objects.filter(memberships__agent=agent).order_by("name")


def agent_workspace(agent: Agent) -> dict:
    """What the workspace shows live: the agent, their queues' figures, the call on screen, where they may
    transfer it (page and snapshot)."""
    from apps.agents.messages import agent_summary
    from apps.queues.messages import offer_summary

    offer = agent_current_offer(agent)
    return {
        "agent": agent_summary(agent),
        "queues": [queue_stats(queue) for queue in agent_queues(agent)],
        "offer": offer_summary(offer) if offer else None,
        "targets": transfer_targets(agent),
    }


def transfer_targets(agent: Agent) -> dict:
    """Who and where an agent may hand a call to; colleagues with their status now (kept live by
    ``agent.presence`` messages), so an agent sees who is free before choosing."""
    from apps.agents.messages import agent_presence

    return {
        "agents": [
            agent_presence(a)
            for a in Agent.objects.exclude(pk=agent.pk).select_related("user").order_by("user__username")
        ],
        "queues": [{"id": q.pk, "name": q.name} for q in Queue.objects.order_by("name")],
    }
