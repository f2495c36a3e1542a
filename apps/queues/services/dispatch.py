"""The dispatcher: which waiting caller goes to which available agent.

One short transaction locks the waiting entries and the available agents
with ``SELECT ... FOR UPDATE SKIP LOCKED`` and matches them in order:
callers by priority, then by their place in line; agents by the queue's
strategy. Each match marks the agent ringing and the entry offered (both
conditional on what was read), records an :class:`Offer` and queues the
``dial`` of the agent's phone. Another dispatcher running at the same time
skips the rows this one holds, so no agent is offered two calls and no
caller is offered twice; the database's one-live-offer-per-agent constraint
backs that up.

Skipping has a cost: rows another transaction holds are invisible for a
moment. A run that skipped rows it could have used runs again shortly
after, so a wake is never lost to a busy neighbour (see
:func:`queue_dispatch_until_settled`).

Each pass reads only the callers a free agent may take (queues a free
agent serves, callers meant for a free agent), the front of every such
queue first, so a long line nobody serves never hides a caller an idle agent
could take. A caller meant for one agent (a transfer, a number routed to
them) waits for that agent until ``target_until``; a pass after that lets
the whole queue take them.

Woken after commit by the events that can make a match (a caller enqueued,
an agent available, an offer ended) and by a periodic tick (which is what
notices a target's time running out).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from apps.agents.models import Agent, AgentSkill
from apps.agents.services import agent_set_status, on_agent_status
from apps.calls.services import call_log
from apps.core.db import on_commit_gathered
from apps.numbers.validation import presented_caller_id
from apps.queues.models import Offer, Queue, QueueEntry, QueueMember, QueueSkill
from apps.queues.realtime import offer_publish, queue_publish_on_commit
from apps.telnyx.client_state import client_state_encode
from apps.telnyx.services import command_create

logger = logging.getLogger(__name__)

# An agent who declined or missed a caller is not offered the same caller
# again for this long (the tick offers it again afterwards).
REFUSAL_COOLDOWN = timedelta(seconds=30)
BATCH = 200
SETTLE_ATTEMPTS = 40
SETTLE_PAUSE = 0.025
DISPATCH_PENDING = "queues:dispatch:pending"
# A queued dispatch whose task was lost stops coalescing wakes after this long (the tick covers the gap).
PENDING_TTL = 10


@dataclass
class DispatchResult:
    offers: int = 0
    skipped: bool = False  # rows held by another transaction might have matched: run again shortly
    more: bool = False  # a full batch was served: more callers may wait
    offered_entries: list[int] = field(default_factory=list)


def dispatch_wake() -> None:
    """Run the dispatcher once the current transaction commits (once per transaction)."""
    on_commit_gathered(_dispatch_now)


def _dispatch_now(_gathered: set | None = None) -> None:
    from apps.queues.tasks import queue_dispatch_task

    # Coalesce a burst of wakes: while a dispatch is queued and has not started,
    # another one adds nothing (it starts after this commit and sees it). The
    # task clears the flag when it starts, so a wake during its run queues one more.
    try:
        if not cache.add(DISPATCH_PENDING, 1, timeout=PENDING_TTL):
            return
    except Exception:
        logger.warning("cache unavailable: dispatching without coalescing", exc_info=True)
    try:
        queue_dispatch_task.delay()
    except Exception:
        # The periodic tick dispatches too: a broker hiccup delays a match, never loses it.
        logger.warning("could not queue a dispatch; the tick will run it", exc_info=True)
        _dispatch_started()


def _dispatch_started() -> None:
    try:
        cache.delete(DISPATCH_PENDING)
    except Exception:
        logger.warning("cache unavailable", exc_info=True)


def queue_dispatch_until_settled(*, woken: bool = False) -> int:
    """Dispatch; while rows held by others might have matched, wait a moment and try again.

    ``woken``: run by a wake (not the tick): later wakes may queue another run from now on.
    """
    if woken:
        _dispatch_started()
    total = 0
    for _ in range(SETTLE_ATTEMPTS):
        result = queue_dispatch()
        total += result.offers
        if result.more:
            continue
        if not result.skipped:
            break
        time.sleep(SETTLE_PAUSE)
    return total


def _ready():
    # A call-back the caller missed keeps its place but waits a while before it is tried again
    # (the tick dispatches once that time has come).
    return QueueEntry.objects.filter(status=QueueEntry.Status.WAITING).filter(
        Q(entered_at__isnull=False) | Q(kind=QueueEntry.Kind.CALLBACK)
    ).filter(Q(not_before__isnull=True) | Q(not_before__lte=timezone.now()))


def queue_dispatch(*, limit: int = BATCH) -> DispatchResult:
    """One matching pass (a short transaction): offer waiting callers to available agents.

    The line and the free agents are first read without locks (the order to
    keep), then locked with SKIP LOCKED. A caller held by another
    transaction is not overtaken by those behind them in the same queue, and
    a queue one of whose free agents is held waits too: this pass leaves
    them and says so (``skipped``), and the next pass serves them in order.
    """
    result = DispatchResult()
    with transaction.atomic():
        now = timezone.now()
        free = set(Agent.objects.filter(status=Agent.Status.AVAILABLE).values_list("pk", flat=True))
        if not free:
            return result
        line = _line(free, now, limit)
        if not line:
            return result
        entries = {
            entry.pk: entry
            for entry in _ready().select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=[pk for pk, _ in line]).select_related("queue", "call")
        }
        agents = list(
            Agent.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=free, status=Agent.Status.AVAILABLE).select_related("user")
        )
        matcher = _Matcher(list(entries.values()), agents, held=free - {agent.pk for agent in agents})
        blocked: set[int] = set()
        for pk, queue_id in line:
            entry = entries.get(pk)
            if entry is not None and entry.target_agent_id and entry.target_until and entry.target_until <= now:
                _target_expired(entry)
            if entry is None or queue_id in blocked or matcher.waits_for_held(entry):
                # Held elsewhere (or its agent is): nobody behind it in its queue goes first.
                blocked.add(queue_id)
                result.skipped = True
                continue
            chosen = matcher.choose(entry)
            if chosen:
                matcher.take(chosen)
                _offer(entry, chosen, matcher)
                result.offers += len(chosen)
                result.offered_entries.append(entry.pk)
            if not matcher.free:
                break
        result.more = len(line) >= limit and result.offers > 0
    return result


def _line(free: set[int], now, limit: int) -> list[tuple[int, int]]:
    """The waiting callers some free agent may take, in the order they are served: ``[(entry, queue), ...]``.

    Only queues a free agent serves are read (and callers meant for a free
    agent), so callers piling up in a queue nobody serves never crowd out
    those of a queue with idle agents. Within the ``limit``, every such queue
    gets its turn: the head of each queue is read first, then the second of
    each, and so on; each queue's part is the front of its line, so "nobody
    overtakes a caller held elsewhere" still holds. Then all of them are
    served by priority and place across queues, as agents may serve several
    (callers meant for one agent first).
    """
    serving = QueueMember.objects.filter(agent_id__in=free).values("queue_id")
    candidates = _ready().filter(
        # Meant for an agent: only once that agent is free, or their time is up and the queue may take it.
        Q(queue_id__in=serving) & (Q(target_agent__isnull=True) | Q(target_until__lte=now))
        | Q(target_agent_id__in=free)
    )
    ranked = candidates.annotate(
        turn=Window(RowNumber(), partition_by=[F("queue_id")],
                    order_by=[F("priority").desc(), F("place_at").asc(), F("pk").asc()])
    )
    rows = list(ranked.order_by("turn", "-priority", "place_at", "pk")
                .values_list("pk", "queue_id", "priority", "place_at", "target_agent_id", "target_until")[:limit])

    def order(row):
        pk, _, priority, place_at, target, until = row
        # A caller only one agent may take (a transfer, their direct line) has that agent first, before callers
        # anyone may take: these would otherwise take the agent and leave the first waiting for nobody.
        meant = target is not None and (until is None or until > now)
        return (not meant, -priority, place_at, pk)

    rows.sort(key=order)
    return [(row[0], row[1]) for row in rows]


def _target_expired(entry: QueueEntry) -> None:
    """The agent a caller was meant for did not take them in time: any member of the queue may now."""
    agent_id = entry.target_agent_id
    entry.target_agent, entry.target_until = None, None
    entry.save(update_fields=["target_agent", "target_until"])
    call_log(call=entry.call, kind="queue.target_expired", data={"queue": entry.queue_id, "agent": agent_id})
    queue_publish_on_commit(entry.queue_id)


class _Matcher:
    """Matches locked entries (in line order) with locked agents, by each queue's strategy."""

    def __init__(self, entries: list[QueueEntry], agents: list[Agent], *, held: set[int]):
        self.free = {agent.pk: agent for agent in agents}
        self.held = held
        queue_ids = {entry.queue_id for entry in entries}
        self.members: dict[tuple[int, int], QueueMember] = {
            (m.queue_id, m.agent_id): m
            for m in QueueMember.objects.filter(queue_id__in=queue_ids, agent_id__in=self.free)
        }
        self.held_members = set(
            QueueMember.objects.filter(queue_id__in=queue_ids, agent_id__in=held).values_list("queue_id", flat=True)
        ) if held else set()
        self.required = {}
        for requirement in QueueSkill.objects.filter(queue_id__in=queue_ids):
            self.required.setdefault(requirement.queue_id, {})[requirement.skill_id] = requirement.min_level
        self.levels: dict[int, dict[int, int]] = {}
        for skill in AgentSkill.objects.filter(agent_id__in=self.free):
            self.levels.setdefault(skill.agent_id, {})[skill.skill_id] = skill.level
        since = timezone.now() - REFUSAL_COOLDOWN
        self.refused = set(
            Offer.objects.filter(entry__in=entries, status__in=[Offer.Status.DECLINED, Offer.Status.MISSED],
                                 ended_at__gte=since).values_list("entry_id", "agent_id")
        )

    def waits_for_held(self, entry: QueueEntry) -> bool:
        """Might an agent held by another transaction be the one this caller should get?"""
        if entry.target_agent_id:
            return entry.target_agent_id in self.held
        return entry.queue_id in self.held_members

    def take(self, agents: list[Agent]) -> None:
        for agent in agents:
            del self.free[agent.pk]

    def choose(self, entry: QueueEntry) -> list[Agent]:
        queue = entry.queue
        if entry.target_agent_id:
            agent = self.free.get(entry.target_agent_id)
            return [agent] if agent and agent.dial_target else []
        pool = [a for a in self.free.values() if (queue.pk, a.pk) in self.members and a.dial_target]
        if queue.strategy == Queue.Strategy.SKILLS:
            pool = [a for a in pool if self._qualified(queue, a)]
        # Someone who just declined or missed this caller is not rung again for a while.
        pool = [a for a in pool if (entry.pk, a.pk) not in self.refused]
        if not pool:
            return []
        pool.sort(key=lambda agent: self._rank(queue, agent))
        if queue.strategy == Queue.Strategy.RING_ALL:
            tier = self.members[(queue.pk, pool[0].pk)].priority
            return [a for a in pool if self.members[(queue.pk, a.pk)].priority == tier]
        return [pool[0]]

    def _qualified(self, queue: Queue, agent: Agent) -> bool:
        levels = self.levels.get(agent.pk, {})
        return all(levels.get(skill, 0) >= minimum for skill, minimum in self.required.get(queue.pk, {}).items())

    def _rank(self, queue: Queue, agent: Agent) -> tuple:
        member = self.members[(queue.pk, agent.pk)]
        idle = agent.idle_since.timestamp() if agent.idle_since else 0.0
        if queue.strategy == Queue.Strategy.ROUND_ROBIN:
            last = member.last_offered_at.timestamp() if member.last_offered_at else 0.0
            return (member.priority, last, member.pk)
        if queue.strategy == Queue.Strategy.SKILLS:
            levels = self.levels.get(agent.pk, {})
            score = sum(levels.get(skill, 0) for skill in self.required.get(queue.pk, {}))
            return (member.priority, -score, idle, agent.pk)
        return (member.priority, idle, agent.pk)


def _offer(entry: QueueEntry, agents: list[Agent], matcher: _Matcher) -> None:
    """Ring ``agents`` (locked, available) for ``entry`` (locked, waiting)."""
    now = timezone.now()
    entry.status = QueueEntry.Status.OFFERED
    entry.save(update_fields=["status"])
    for agent in agents:
        if not agent_set_status(agent=agent, status=Agent.Status.RINGING, expected=Agent.Status.AVAILABLE):
            continue  # cannot happen while we hold the row; never ring someone who moved
        offer = Offer.objects.create(entry=entry, agent=agent, dial_to=agent.dial_target,
                                     customer_call=entry.call if entry.kind == QueueEntry.Kind.CALL else None)
        member = matcher.members.get((entry.queue_id, agent.pk))
        if member is not None:
            QueueMember.objects.filter(pk=member.pk).update(last_offered_at=now)
        offer_dial(offer=offer, entry=entry)
        offer_publish(offer, card=True)
    queue_publish_on_commit(entry.queue_id)


def display_name(text: str) -> str:
    """A SIP display name as Telnyx accepts it: letters, digits, spaces and -_~!.+ (128 at most)."""
    return re.sub(r"\s+", " ", re.sub(r"[^A-Za-z0-9 \-_~!.+]", "", text)).strip()[:128] or "Queue call"


def offer_dial(*, offer: Offer, entry: QueueEntry) -> None:
    """Ring the agent's phone for ``offer`` (sent after commit; its webhooks reach the agent-leg flow)."""
    from apps.queues.services.offers import AGENT_FLOW

    call = entry.call
    queue = entry.queue
    caller = entry.callback_number or call.from_number
    body = {
        "to": offer.dial_to,
        # The agent's phone shows who is calling; a withheld number shows the line they dialled.
        "from": presented_caller_id(caller, call.to_number),
        "from_display_name": display_name(f"{queue.name} {call.caller_name or caller}"),
        "connection_id": call.connection_id or settings.TELNYX_CONNECTION_ID,
        "timeout_secs": queue.ring_timeout_secs,
        "client_state": client_state_encode({"flow": AGENT_FLOW, "offer": offer.pk}),
    }
    if entry.kind == QueueEntry.Kind.CALL and call.status != call.Status.ENDED:
        body["link_to"] = call.call_control_id  # same call session: one call in Telnyx's records
    command_create(action="dial", body=body, key=f"offer:{offer.pk}:dial")


@on_agent_status
def agent_status_changed(agent: Agent, old: str, new: str) -> None:
    """An agent's move changes their queues' figures; an agent becoming free may take a waiting caller."""
    queue_publish_on_commit(*QueueMember.objects.filter(agent=agent).values_list("queue_id", flat=True))
    if new == Agent.Status.AVAILABLE:
        dispatch_wake()
