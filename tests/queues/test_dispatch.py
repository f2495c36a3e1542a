"""The dispatcher against the database: strategies, priorities, and many dispatchers at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from apps.agents.models import Agent, AgentSkill, Skill
from apps.agents.services import agent_set_status
from apps.calls.models import Call
from apps.queues.models import Offer, Queue, QueueEntry
from apps.queues.services.dispatch import queue_dispatch, queue_dispatch_until_settled
from apps.queues.services.entries import queue_enter
from tests.factories import CallFactory
from tests.queues.conftest import available, make_agent, make_queue

pytestmark = pytest.mark.django_db(transaction=True)


def waiting(queue: Queue, n: int = 1, *, priority: int = 0, ago: int = 0, **fields) -> list[QueueEntry]:
    """``n`` callers already in Telnyx's queue (oldest first)."""
    now = timezone.now()
    entries = []
    for i in range(n):
        call = CallFactory(status=Call.Status.ANSWERED, from_number=f"+1555333{len(entries):04d}")
        entries.append(QueueEntry.objects.create(
            call=call, queue=queue, priority=priority, entered_at=now,
            place_at=now - timedelta(seconds=ago) + timedelta(milliseconds=i), **fields,
        ))
    return entries


def dialled(telnyx_api) -> list[str]:
    return [r["body"]["to"] for r in telnyx_api.requests if r["path"].endswith("/calls")]


def test_ring_all_rings_every_free_agent_of_the_first_tier(telnyx_api):
    a, b, c = make_agent("ann"), make_agent("ben"), make_agent("cat")
    queue = make_queue("Help", agents=[(1, a), (1, b), (2, c)], strategy=Queue.Strategy.RING_ALL, line=None)
    available(a, b, c)
    [entry] = waiting(queue)
    assert queue_dispatch().offers == 2
    assert sorted(dialled(telnyx_api)) == [a.sip_uri, b.sip_uri]
    assert Agent.objects.get(pk=c.pk).status == Agent.Status.AVAILABLE  # the second tier waits
    entry.refresh_from_db()
    assert entry.status == QueueEntry.Status.OFFERED


def test_skills_route_to_the_most_skilled_qualified_agent_and_priority_callers_first(telnyx_api):
    spanish = Skill.objects.create(name="Spanish")
    junior, senior, monolingual = make_agent("jun"), make_agent("sen"), make_agent("mono")
    AgentSkill.objects.create(agent=junior, skill=spanish, level=3)
    AgentSkill.objects.create(agent=senior, skill=spanish, level=9)
    queue = make_queue("Espanol", agents=[(1, junior), (1, senior), (1, monolingual)],
                       strategy=Queue.Strategy.SKILLS, line=None)
    queue.required_skills.create(skill=spanish, min_level=2)
    available(junior, senior, monolingual)
    [early] = waiting(queue, ago=60)
    [vip] = waiting(queue, priority=5)

    assert queue_dispatch().offers == 2
    assert Offer.objects.get(entry=vip).agent == senior  # the priority caller gets the best agent
    assert Offer.objects.get(entry=early).agent == junior
    assert not Offer.objects.filter(agent=monolingual).exists()  # not qualified


def test_round_robin_goes_down_the_members_then_starts_again(telnyx_api):
    agents = [make_agent(n) for n in ("rr1", "rr2", "rr3")]
    queue = make_queue("Round", agents=[(1, a) for a in agents], strategy=Queue.Strategy.ROUND_ROBIN, line=None)
    order = []
    for _ in range(6):
        available(*[a for a in reversed(agents) if Agent.objects.get(pk=a.pk).status != Agent.Status.AVAILABLE])
        waiting(queue)
        queue_dispatch()
        offer = Offer.objects.order_by("-pk").first()
        order.append(offer.agent.user.username)
        Offer.objects.filter(pk=offer.pk).update(status=Offer.Status.ENDED)
        Agent.objects.filter(pk=offer.agent_id).update(status=Agent.Status.OFFLINE)
    assert order == ["rr1", "rr2", "rr3", "rr1", "rr2", "rr3"]


def test_a_transfer_to_an_agent_waits_for_that_agent_only(telnyx_api):
    sue, tim = make_agent("sue"), make_agent("tim")
    queue = make_queue("Pool", agents=[(1, sue), (1, tim)], line=None)
    available(tim)
    [entry] = waiting(queue, target_agent=sue, priority=100)
    assert queue_dispatch().offers == 0
    available(sue)
    queue_dispatch()
    assert Offer.objects.get(entry=entry).agent == sue


def _enter_for(agent, queue, priority: int = 100) -> QueueEntry:
    """A caller handed to ``agent`` (as a blind transfer does, or their direct line), already in Telnyx's queue."""
    call = CallFactory(status=Call.Status.ANSWERED, from_number="+15553339999")
    entry = queue_enter(call=call, queue=queue, priority=priority, target_agent=agent)
    QueueEntry.objects.filter(pk=entry.pk).update(entered_at=timezone.now())
    entry.refresh_from_db()
    return entry


def test_a_caller_for_a_busy_agent_waits_for_them_then_goes_to_the_whole_queue_after_the_ring_timeout(telnyx_api):
    sue, tim = make_agent("sue"), make_agent("tim")
    queue = make_queue("Pool", agents=[(1, sue), (1, tim)], line=None, ring_timeout_secs=20)
    available(tim)
    Agent.objects.filter(pk=sue.pk).update(status=Agent.Status.ON_CALL)  # sue is talking to someone else
    entry = _enter_for(sue, queue)
    assert entry.target_agent == sue
    assert 19 <= (entry.target_until - timezone.now()).total_seconds() <= 20
    assert queue_dispatch().offers == 0  # sue may be free in time: tim does not take her caller yet

    QueueEntry.objects.filter(pk=entry.pk).update(target_until=timezone.now() - timedelta(seconds=1))
    assert queue_dispatch().offers == 1  # the tick's pass after the ring timeout
    assert Offer.objects.get(entry=entry).agent == tim
    entry.refresh_from_db()
    assert (entry.target_agent, entry.target_until) == (None, None)
    assert entry.call.events.filter(kind="queue.target_expired").exists()


def test_a_caller_meant_for_an_agent_has_them_before_callers_anyone_may_take(telnyx_api):
    sue = make_agent("sue")
    queue = make_queue("Pool", agents=[(1, sue)], line=None)
    Agent.objects.filter(pk=sue.pk).update(status=Agent.Status.WRAP_UP)
    waiting(queue, 3, ago=300)  # waited longer, but any member may take them
    entry = _enter_for(sue, queue, priority=0)  # someone who dialled her direct line
    Agent.objects.filter(pk=sue.pk).update(status=Agent.Status.AVAILABLE)  # her wrap-up is over

    assert queue_dispatch().offers == 1
    assert Offer.objects.get().entry == entry


@pytest.mark.parametrize("status", [Agent.Status.AWAY, Agent.Status.OFFLINE])
def test_a_caller_for_an_agent_who_is_away_or_offline_goes_to_the_whole_queue_at_once(telnyx_api, status):
    sue, tim = make_agent("sue"), make_agent("tim")
    queue = make_queue("Pool", agents=[(1, sue), (1, tim)], line=None)
    available(tim)
    Agent.objects.filter(pk=sue.pk).update(status=status)
    entry = _enter_for(sue, queue)
    assert (entry.target_agent, entry.target_until) == (None, None)
    assert entry.call.events.get(kind="queue.target_unavailable").data["status"] == status
    assert queue_dispatch().offers == 1
    assert Offer.objects.get(entry=entry).agent == tim


def test_callers_of_a_queue_nobody_serves_never_keep_a_free_agent_of_another_queue_idle(telnyx_api):
    nobody = make_agent("nobody")  # the only member of the first queue, and offline
    ann = make_agent("ann")
    unserved = make_queue("Unserved", agents=[(1, nobody)], line=None)
    served = make_queue("Served", agents=[(1, ann)], line=None)
    available(ann)
    waiting(unserved, 5, ago=600)  # waited far longer than anyone in the served queue
    [caller] = waiting(served)

    # A pass reads a few callers at a time (hundreds in production): the unserved queue's do not fill it.
    result = queue_dispatch(limit=3)
    assert result.offers == 1
    assert Offer.objects.get().entry == caller


def test_every_queue_with_a_free_agent_gets_its_turn_within_one_pass(telnyx_api):
    ann, ben = make_agent("ann"), make_agent("ben")
    first = make_queue("First", agents=[(1, ann)], line=None)
    second = make_queue("Second", agents=[(1, ben)], line=None)
    available(ann, ben)
    refused = waiting(first, 4, ago=600)
    for entry in refused:  # ann turned each of them down a moment ago: she is not rung for them again yet
        Offer.objects.create(entry=entry, agent=ann, dial_to=ann.sip_uri, status=Offer.Status.DECLINED,
                             ended_at=timezone.now())
    [other] = waiting(second)

    assert queue_dispatch(limit=3).offers == 1
    assert Offer.objects.get(status=Offer.Status.RINGING).entry == other
    assert Offer.objects.get(entry=other).agent == ben


def test_an_agent_who_declined_a_caller_is_not_rung_again_for_them_right_away(telnyx_api):
    uli, vic = make_agent("uli"), make_agent("vic")
    queue = make_queue("Pool", agents=[(1, uli), (1, vic)], line=None)
    [entry] = waiting(queue)
    Offer.objects.create(entry=entry, agent=uli, dial_to=uli.sip_uri, status=Offer.Status.DECLINED,
                         ended_at=timezone.now())
    available(uli)
    assert queue_dispatch().offers == 0
    available(vic)
    queue_dispatch()
    assert Offer.objects.get(entry=entry, status=Offer.Status.RINGING).agent == vic


def test_an_agent_without_a_phone_is_never_rung(telnyx_api):
    nophone = make_agent("nophone")
    Agent.objects.filter(pk=nophone.pk).update(sip_uri="")
    queue = make_queue("Pool", agents=[(1, nophone)], line=None)
    Agent.objects.filter(pk=nophone.pk).update(status=Agent.Status.AVAILABLE)
    waiting(queue)
    assert queue_dispatch().offers == 0


def test_a_missed_call_back_keeps_its_place_but_is_not_tried_again_before_its_time(telnyx_api):
    agent = make_agent("kim")
    queue = make_queue("Sales", agents=[(1, agent)], line=None)
    [callback] = waiting(queue, kind=QueueEntry.Kind.CALLBACK, callback_number="+15553339999", ago=60,
                         not_before=timezone.now() + timedelta(minutes=2))
    [later] = waiting(queue)
    available(agent)
    # The call-back is first in line, but its retry time has not come: the caller behind it goes first.
    assert list(QueueEntry.objects.filter(queue=queue).order_by("-priority", "place_at")) == [callback, later]
    assert Offer.objects.get(agent=agent).entry == later

    Offer.objects.filter(agent=agent).update(status=Offer.Status.ENDED)
    Agent.objects.filter(pk=agent.pk).update(status=Agent.Status.AVAILABLE)
    assert queue_dispatch().offers == 0
    QueueEntry.objects.filter(pk=callback.pk).update(not_before=timezone.now())
    assert queue_dispatch().offers == 1
    assert Offer.objects.get(entry=callback).agent == agent


def test_a_call_back_that_cannot_be_dialled_goes_back_in_line_and_frees_the_agent(telnyx_api):
    from apps.telnyx.services import command_create

    agent = make_agent("lee")
    queue = make_queue("Sales", agents=[(1, agent)], line=None, wrap_up_secs=600)
    for status in (Agent.Status.AVAILABLE, Agent.Status.RINGING, Agent.Status.ON_CALL):
        agent.refresh_from_db()
        agent_set_status(agent=agent, status=status)
    # The agent has answered a call-back request: it left the line, and their leg waits in the conference.
    [request] = waiting(queue, kind=QueueEntry.Kind.CALLBACK, callback_number="+15553339999", ago=60)
    QueueEntry.objects.filter(pk=request.pk).update(status=QueueEntry.Status.LEFT, leave_reason="callback",
                                                    answered_at=timezone.now(), agent=agent)
    agent_leg = CallFactory(status=Call.Status.ANSWERED, direction=Call.Direction.OUTBOUND)
    offer = Offer.objects.create(entry=request, agent=agent, status=Offer.Status.CONNECTED, dial_to=agent.sip_uri,
                                 agent_call=agent_leg, agent_call_control_id=agent_leg.call_control_id,
                                 answered_at=timezone.now(), conference_name="offer-x")

    # Telnyx refuses the dial of the caller's number.
    telnyx_api.respond(422, {"errors": [{"code": "10015", "title": "Invalid parameter", "detail": "bad to"}]})
    command_create(action="dial", body={"to": "+15553339999", "from": "+13125550100", "connection_id": "c"},
                   key=f"offer:{offer.pk}:callback-dial")

    again = QueueEntry.objects.get(queue=queue, status=QueueEntry.Status.WAITING)
    assert (again.kind, again.place_at, again.callback_attempts) == (QueueEntry.Kind.CALLBACK, request.place_at, 1)
    assert QueueEntry.objects.get(pk=request.pk).leave_reason == "callback missed"
    assert telnyx_api.requests[-1]["path"] == f"/v2/calls/{agent_leg.call_control_id}/actions/hangup"
    assert Offer.objects.get(pk=offer.pk).end_reason == "callback dial failed"


def test_concurrent_dispatchers_never_give_an_agent_two_callers_nor_a_caller_two_agents(telnyx_api):
    agents = [make_agent(f"c{n}") for n in range(8)]
    queue = make_queue("Busy", agents=[(1, a) for a in agents], line=None)
    entries = waiting(queue, 20)
    available(*agents)
    barrier = threading.Barrier(6)
    errors = []

    def run():
        try:
            barrier.wait()
            queue_dispatch_until_settled()
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    offers = list(Offer.objects.all())
    assert len(offers) == 8
    assert len({o.agent_id for o in offers}) == 8 and len({o.entry_id for o in offers}) == 8
    # The eight callers served are the eight who waited longest.
    assert {o.entry_id for o in offers} == {e.pk for e in entries[:8]}
    assert Agent.objects.filter(status=Agent.Status.RINGING).count() == 8
