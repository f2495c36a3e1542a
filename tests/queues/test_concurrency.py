"""Fifty callers at once for ten agents, routed by a real Celery worker on Redis and Postgres."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest

from apps.agents.models import Agent
from apps.queues.models import Offer, QueueEntry
from tests.queues.conftest import QUEUE_LINE, available, make_agent, make_queue, sip

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

CALLERS = 50
AGENTS = 10


def _snapshot(center, agent_uris: set[str]) -> list[str]:
    """What is wrong with the sandbox's state right now (nothing, we hope)."""
    problems = []
    answered = Counter(leg["to"] for leg in center.sandbox.calls(direction="outgoing", state="answered")
                       if leg["to"] in agent_uris)
    problems += [f"{uri} holds {count} calls" for uri, count in answered.items() if count > 1]
    for conference in center.sandbox.conferences():
        legs = [p["call_control_id"] for p in conference["participants"]]
        agents_in = [leg for leg in legs if center.sandbox.call(leg)["to"] in agent_uris]
        if len(agents_in) > 1 or len(legs) > 2:
            problems.append(f"conference {conference['name']} has {legs}")
    return problems


def test_fifty_simultaneous_callers_and_ten_agents_no_double_assignment_no_lost_caller(center, celery_worker_process):
    agents = [make_agent(f"rush{n}") for n in range(AGENTS)]
    uris = {sip(a.user.username) for a in agents}
    queue = make_queue("Rush", agents=[(1, a) for a in agents], wrap_up_secs=0)
    # Phones answer after a short ring; each conversation lasts about five seconds (simulated 100 s).
    center.sandbox.set_destinations({uri: {"answer": "auto", "ring_ms": 500, "hangup_after_ms": 100000} for uri in uris})
    celery_worker_process.start()
    available(*agents)

    with ThreadPoolExecutor(max_workers=25) as pool:
        placed = list(pool.map(lambda n: center.sandbox.place_call(from_=f"+1555020{n:04d}", to=QUEUE_LINE),
                               range(CALLERS)))
    callers = {call["call_control_id"] for call in placed}

    problems, deadline = [], time.monotonic() + 150
    while time.monotonic() < deadline:
        problems += _snapshot(center, uris)
        done = QueueEntry.objects.filter(queue=queue, status=QueueEntry.Status.LEFT).count()
        if done == CALLERS and not Offer.objects.filter(status__in=Offer.LIVE).exists():
            break
        time.sleep(0.2)
    assert problems == []

    # From the database: every caller answered by exactly one agent; no agent ever had two calls at once.
    entries = QueueEntry.objects.filter(queue=queue)
    assert entries.count() == CALLERS
    assert Counter(entries.values_list("leave_reason", flat=True)) == {"answered": CALLERS}
    assert {e.call.call_control_id for e in entries.select_related("call")} == callers
    offers = list(Offer.objects.all())
    assert Counter(o.status for o in offers) == {Offer.Status.ENDED: CALLERS}  # none missed, cancelled or doubled
    assert len({o.entry_id for o in offers}) == CALLERS
    by_agent = defaultdict(list)
    for offer in offers:
        by_agent[offer.agent_id].append((offer.created_at, offer.ended_at))
    for spans in by_agent.values():
        spans.sort()
        assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:]))
    assert len(by_agent) == AGENTS  # the work was shared
    center.wait_for(lambda: Agent.objects.filter(status=Agent.Status.AVAILABLE).count() == AGENTS, timeout=30)

    # From the sandbox: each conference joined exactly one caller and one agent, and every caller had one.
    joins = defaultdict(set)
    for event in center.sandbox.events(event_type="conference.participant.joined"):
        joins[event["payload"]["conference_id"]].add(event["call_control_id"])
    agent_legs = {leg["call_control_id"] for leg in center.sandbox.calls(direction="outgoing") if leg["to"] in uris}
    assert len(joins) == CALLERS
    assert all(len(legs & callers) == 1 and len(legs & agent_legs) == 1 and len(legs) == 2 for legs in joins.values())
    assert set().union(*joins.values()) & callers == callers
    for uri in uris:
        legs = [leg for leg in center.sandbox.calls(to=uri) if leg["answered_at"]]
        spans = sorted((leg["answered_at"], leg["ended_at"]) for leg in legs)
        assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:])), uri
