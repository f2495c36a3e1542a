"""Callers ring a queue through the sandbox; the dispatcher rings agents' phones and connects them in a conference."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import transaction

from apps.agents.models import Agent, AgentSkill, AgentStatusChange, Skill
from apps.calls.models import Call
from apps.queues.models import Offer, Queue, QueueEntry
from apps.telnyx.models import TelnyxCommand
from tests.queues.conftest import (
    QUEUE_LINE,
    agent_status,
    available,
    call_of,
    enter,
    entry_of,
    make_agent,
    make_queue,
    offer_of,
    sent,
    sip,
)

pytestmark = pytest.mark.e2e


def _intervals_overlap(intervals) -> bool:
    intervals = sorted(intervals)
    return any(later[0] < earlier[1] for earlier, later in zip(intervals, intervals[1:]))


def _available_before(change: AgentStatusChange) -> dict[int, object]:
    """Agents available just before ``change`` (by the status history), with the time each became so."""
    idle = {}
    for agent_id in Agent.objects.values_list("pk", flat=True):
        last = (AgentStatusChange.objects.filter(agent_id=agent_id)
                .filter(at__lt=change.at).order_by("-at", "-pk").first())
        if last is not None and last.new_status == Agent.Status.AVAILABLE:
            idle[agent_id] = last.at
    return idle


def _previous_offer_to(agent_id: int, before) -> float:
    previous = Offer.objects.filter(agent_id=agent_id, created_at__lt=before).order_by("-created_at").first()
    return previous.created_at.timestamp() if previous else 0.0


CHOSEN_BY = {
    # Strategy -> what the chosen agent had the least of, among those free at that moment.
    Queue.Strategy.LONGEST_IDLE: lambda agent_id, became_free, offer: became_free.timestamp(),
    Queue.Strategy.ROUND_ROBIN: lambda agent_id, became_free, offer: _previous_offer_to(agent_id, offer.created_at),
}
# Agents are made (and listed as members) carol, alice, bob, and become available bob, carol, alice: the first
# three callers show which order a strategy follows, not just that of the ids.
FIRST_THREE = {
    Queue.Strategy.LONGEST_IDLE: ["bob", "carol", "alice"],  # idle longest first
    Queue.Strategy.ROUND_ROBIN: ["carol", "alice", "bob"],  # down the member list
}
# A conversation lasts a minute of sandbox time (3 s here): long enough for the caller to be connected even on a
# busy machine.
TALK_MS = 60000


def _team(strategy: str, rings: dict[str, int] | None = None, **queue_settings):
    """Carol, alice and bob serve Sales, in that order; each phone answers after its ring time."""
    agents = [make_agent(name) for name in ("carol", "alice", "bob")]
    queue = make_queue("Sales", agents=[(1, a) for a in agents], strategy=strategy, wrap_up_secs=0, **queue_settings)
    rings = rings or {}
    center_destinations = {sip(a.user.username): {"answer": "auto", "ring_ms": rings.get(a.user.username, 300),
                                                  "hangup_after_ms": TALK_MS} for a in agents}
    return {a.user.username: a for a in agents}, queue, center_destinations


def _all_calls_over(center, callers: list[str], agents) -> None:
    for ccid in callers:
        entry_of(center, ccid, status=QueueEntry.Status.LEFT)
    center.wait_for(lambda: not Offer.objects.filter(status__in=Offer.LIVE).exists(), timeout=20,
                    message="every call to end")
    for agent in agents:
        agent_status(center, agent, Agent.Status.AVAILABLE)


def _each_caller_talked_to_one_agent_and_no_agent_to_two_callers_at_once(center, queue, callers, agents):
    """The answered offers, oldest first; every caller reached exactly one agent, in a conference of the two."""
    entries = list(QueueEntry.objects.filter(queue=queue).select_related("call"))
    assert sorted(e.call.call_control_id for e in entries) == sorted(callers)
    assert [e.leave_reason for e in entries] == ["answered"] * len(callers)
    assert all(Call.objects.get(call_control_id=c).connected_at for c in callers)
    answered = list(Offer.objects.filter(answered_at__isnull=False).select_related("agent__user", "entry__call")
                    .order_by("created_at"))
    assert sorted(o.entry_id for o in answered) == sorted(e.pk for e in entries)  # one agent each
    assert {o.status for o in answered} == {Offer.Status.ENDED}
    for agent in agents:
        mine = [(o.answered_at, o.ended_at) for o in answered if o.agent == agent]
        assert not _intervals_overlap(mine)
        legs = center.sandbox.calls(to=sip(agent.user.username))
        assert not _intervals_overlap([(leg["answered_at"], leg["ended_at"]) for leg in legs if leg["answered_at"]])
    joins = defaultdict(set)
    for event in center.sandbox.events(event_type="conference.participant.joined"):
        joins[event["payload"]["conference_id"]].add(event["call_control_id"])
    assert len(joins) == len(callers)
    agent_legs = {leg["call_control_id"] for a in agents for leg in center.sandbox.calls(to=sip(a.user.username))}
    for members in joins.values():
        assert len(members) == 2 and len(members & set(callers)) == 1 and len(members & agent_legs) == 1, members
    assert not TelnyxCommand.objects.filter(status=TelnyxCommand.Status.FAILED).exists()
    return answered


def _free_when_rung(offer: Offer) -> dict[int, object]:
    """Agents free when ``offer`` was made (the move to ringing written just before it, in its transaction)."""
    rung = AgentStatusChange.objects.filter(agent=offer.agent, new_status=Agent.Status.RINGING,
                                            at__lte=offer.created_at).order_by("-at", "-pk").first()
    return _available_before(rung)


@pytest.mark.parametrize("strategy", list(CHOSEN_BY))
def test_ten_callers_reach_three_agents_in_strategy_order_and_no_agent_holds_two_calls(center, strategy):
    by_name, queue, destinations = _team(strategy)
    agents = list(by_name.values())
    center.sandbox.set_destinations(destinations)
    available(by_name["bob"], by_name["carol"], by_name["alice"])  # bob has been idle longest, alice the least
    callers = [enter(center, f"+1555010{n:04d}") for n in range(10)]
    _all_calls_over(center, callers, agents)

    offers = _each_caller_talked_to_one_agent_and_no_agent_to_two_callers_at_once(center, queue, callers, agents)
    # Callers were served in the order they entered the queue, and nobody was offered twice.
    entries = list(QueueEntry.objects.filter(queue=queue).order_by("place_at"))
    assert [e.call.call_control_id for e in entries] == callers
    first_offers = [e.offers.order_by("created_at").first().created_at for e in entries]
    assert first_offers == sorted(first_offers)
    assert Offer.objects.count() == 10

    # The first three went to the agents in exactly the strategy's order, and every later one by it too.
    assert [o.agent.user.username for o in offers[:3]] == FIRST_THREE[strategy]
    ranking = CHOSEN_BY[strategy]
    for offer in offers:
        free = _free_when_rung(offer)
        assert offer.agent_id in free
        best = min(free, key=lambda pk: (ranking(pk, free[pk], offer), pk))
        assert ranking(offer.agent_id, free[offer.agent_id], offer) == ranking(best, free[best], offer)


def test_ring_all_rings_every_free_agent_and_the_first_to_answer_takes_the_caller(center):
    # Each phone picks up after its own ring time (0.1 s, 1 s, 2 s here): alice first, then bob, then carol.
    rings = {"alice": 2000, "bob": 20000, "carol": 40000}
    by_name, queue, destinations = _team(Queue.Strategy.RING_ALL, rings, ring_timeout_secs=60)
    carol, alice, bob = by_name["carol"], by_name["alice"], by_name["bob"]
    center.sandbox.set_destinations(destinations)
    available(carol, alice, bob)
    # Each caller calls once the phones the previous one stopped are free again, so who rings is known.
    callers = [enter(center, "+15550200001")]
    offer_of(center, callers[0], status=Offer.Status.CONNECTED)
    agent_status(center, bob, Agent.Status.AVAILABLE)
    agent_status(center, carol, Agent.Status.AVAILABLE)
    callers.append(enter(center, "+15550200002"))
    offer_of(center, callers[1], status=Offer.Status.CONNECTED)
    agent_status(center, carol, Agent.Status.AVAILABLE)
    callers.append(enter(center, "+15550200003"))
    offer_of(center, callers[2], status=Offer.Status.CONNECTED)
    callers.append(enter(center, "+15550200004"))  # everyone is talking: waits for the first one free (alice)
    _all_calls_over(center, callers, [carol, alice, bob])

    answered = _each_caller_talked_to_one_agent_and_no_agent_to_two_callers_at_once(
        center, queue, callers, [carol, alice, bob])
    rung = [sorted(o.agent.user.username for o in winner.entry.offers.all()) for winner in answered]
    assert [o.entry.call.call_control_id for o in answered] == callers
    assert rung == [["alice", "bob", "carol"], ["bob", "carol"], ["carol"], ["alice"]]  # every free phone, at once
    assert [o.agent.user.username for o in answered] == ["alice", "bob", "carol", "alice"]  # the quickest took it
    for winner in answered:
        for lost in winner.entry.offers.exclude(pk=winner.pk):
            # The other phones were stopped before anyone picked them up.
            assert (lost.status, lost.end_reason, lost.answered_at) == (
                Offer.Status.CANCELLED, "answered elsewhere", None)
            leg = center.sandbox.call(lost.agent_call_control_id)
            assert (leg["answered_at"], leg["hangup_cause"]) == (None, "originator_cancel")


def test_skills_give_a_priority_caller_the_most_skilled_agent_first(center, client, supervisor_user):
    spanish = Skill.objects.create(name="Spanish")
    by_name, queue, destinations = _team(Queue.Strategy.SKILLS)
    carol, alice, bob = by_name["carol"], by_name["alice"], by_name["bob"]
    AgentSkill.objects.create(agent=alice, skill=spanish, level=3)
    AgentSkill.objects.create(agent=bob, skill=spanish, level=9)  # carol speaks none
    queue.required_skills.create(skill=spanish, min_level=2)
    destinations[sip("alice")]["hangup_after_ms"] = TALK_MS + 20000  # alice's calls last 1 s longer than bob's
    center.sandbox.set_destinations(destinations)
    available(carol)  # free all along, but never rung: she cannot take this queue's callers
    callers = [enter(center, f"+1555030{n:04d}") for n in range(4)]
    vip = entry_of(center, callers[-1])  # the last to call...
    client.force_login(supervisor_user)
    response = client.post(f"/api/queues/entries/{vip.pk}/priority/", {"priority": 5},
                           content_type="application/json")
    assert response.json()["position"] == 1  # ...is moved to the front of the line
    with transaction.atomic():  # alice and bob become free together: one pass chooses between them
        available(alice, bob)
    _all_calls_over(center, callers, [alice, bob, carol])

    answered = _each_caller_talked_to_one_agent_and_no_agent_to_two_callers_at_once(
        center, queue, callers, [alice, bob, carol])
    assert not Offer.objects.filter(agent=carol).exists()
    assert Offer.objects.count() == 4
    # The priority caller first, to the better speaker; the next caller to the other one. Then the others in the
    # order they called, each to whoever was free first (bob, whose calls are shorter, then alice).
    assert [(o.entry.call.call_control_id, o.agent.user.username) for o in answered] == [
        (callers[3], "bob"), (callers[0], "alice"), (callers[1], "bob"), (callers[2], "alice")]
    assert answered[0].created_at < answered[1].created_at  # in that order, within one pass


def test_a_caller_talks_to_the_agent_in_a_conference_made_for_the_call(center):
    alice = make_agent("alice")
    make_queue("Sales", agents=[(1, alice)], wrap_up_secs=0)
    center.sandbox.set_destinations({sip("alice"): {"answer": "auto", "ring_ms": 200}})
    available(alice)
    ccid = center.sandbox.place_call(from_="+15557770001", to=QUEUE_LINE, caller_name="MARIA GARCIA")["call_control_id"]

    offer = offer_of(center, ccid, status=Offer.Status.CONNECTED, conference_id__gt="")
    conference = center.wait_for(lambda: (c := center.sandbox.conference(offer.conference_id))
                                 and len(c["participants"]) == 2 and c, message="both legs in the conference")
    agent_leg = offer.agent_call_control_id
    assert conference["name"] == f"offer-{offer.pk}"
    assert conference["hears"] == {ccid: [agent_leg], agent_leg: [ccid]}
    assert [c["action"] for c in sent(center, ccid)] == ["answer", "enqueue", "leave_queue"]
    [create] = center.sandbox.commands(action="conference_create")
    [join] = center.sandbox.commands(action="join")
    assert (create["body"]["call_control_id"], join["body"]["call_control_id"]) == (ccid, agent_leg)
    assert join["conference_id"] == offer.conference_name  # joined by name: chained before the id was known
    [dial] = center.sandbox.commands(action="dial")
    assert (dial["body"]["to"], dial["body"]["from"], dial["body"]["link_to"]) == (sip("alice"), "+15557770001", ccid)
    assert dial["body"]["timeout_secs"] == 20
    assert Agent.objects.get(pk=alice.pk).status == Agent.Status.ON_CALL

    center.sandbox.hangup(ccid)  # the caller ends the call: the agent's leg follows, wrap-up is skipped (0 s)
    center.sandbox.wait_for_event(agent_leg, "call.hangup")
    agent_status(center, alice, Agent.Status.AVAILABLE)
    caller = call_of(center, ccid, status=Call.Status.ENDED)
    assert caller.caller_outcome == Call.Outcome.ANSWERED and caller.connected_at is not None
    history = list(alice.status_changes.order_by("at", "pk").values_list("old_status", "new_status"))
    assert history == [("offline", "available"), ("available", "ringing"), ("ringing", "on_call"),
                       ("on_call", "wrap_up"), ("wrap_up", "available")]


def test_ring_no_answer_moves_the_caller_to_the_next_agent_and_the_first_away(center):
    dora, erin = make_agent("dora"), make_agent("erin")
    make_queue("Sales", agents=[(1, dora), (1, erin)], ring_timeout_secs=5, wrap_up_secs=0)
    center.sandbox.set_destinations({sip("dora"): {"answer": "never"}, sip("erin"): {"answer": "auto", "ring_ms": 200}})
    available(dora, erin)  # dora idle longest: rung first
    ccid = center.sandbox.place_call(from_="+15557770002", to=QUEUE_LINE)["call_control_id"]

    answered = offer_of(center, ccid, status=Offer.Status.CONNECTED)
    assert answered.agent == erin
    [missed] = Offer.objects.filter(agent=dora)
    assert (missed.status, missed.end_reason) == (Offer.Status.MISSED, "timeout")
    dora.refresh_from_db()
    assert (dora.status, dora.status_reason) == (Agent.Status.AWAY, "Missed call")
    [dora_leg] = center.sandbox.calls(to=sip("dora"))
    assert dora_leg["hangup_cause"] == "timeout"
    center.sandbox.hangup(ccid)


def test_a_caller_hanging_up_while_the_agent_rings_cancels_the_agents_leg(center):
    fay = make_agent("fay")
    queue = make_queue("Sales", agents=[(1, fay)])
    center.sandbox.set_destinations({sip("fay"): {"answer": "manual"}})
    available(fay)
    ccid = center.sandbox.place_call(from_="+15557770003", to=QUEUE_LINE)["call_control_id"]
    leg = center.sandbox.wait_for_call(lambda c: c["state"] == "ringing", to=sip("fay"))

    center.sandbox.hangup(ccid)
    center.sandbox.wait_for_event(leg["call_control_id"], "call.hangup")
    assert center.sandbox.call(leg["call_control_id"])["hangup_cause"] == "originator_cancel"
    agent_status(center, fay, Agent.Status.AVAILABLE)
    offer = Offer.objects.get()
    assert (offer.status, offer.end_reason) == (Offer.Status.CANCELLED, "caller hung up")
    entry = QueueEntry.objects.get(queue=queue)
    assert (entry.status, entry.leave_reason) == (QueueEntry.Status.LEFT, "hangup")
    caller = call_of(center, ccid, status=Call.Status.ENDED)
    assert caller.caller_outcome == Call.Outcome.ABANDONED


def test_a_declined_call_goes_to_the_next_agent(center, client):
    gus, hal = make_agent("gus"), make_agent("hal")
    make_queue("Sales", agents=[(1, gus), (2, hal)], wrap_up_secs=0)
    center.sandbox.set_destinations({sip("gus"): {"answer": "manual"}, sip("hal"): {"answer": "manual"}})
    available(gus, hal)
    ccid = center.sandbox.place_call(from_="+15557770004", to=QUEUE_LINE)["call_control_id"]
    first = offer_of(center, ccid, agent=gus, agent_call_control_id__gt="")

    client.force_login(gus.user)
    assert client.post(f"/api/offers/{first.pk}/decline/").status_code == 200
    second = offer_of(center, ccid, agent=hal, agent_call_control_id__gt="")
    agent_status(center, gus, Agent.Status.AVAILABLE)  # declining is not missing: no "away"
    assert Offer.objects.get(pk=first.pk).status == Offer.Status.DECLINED
    center.sandbox.answer(second.agent_call_control_id)
    offer_of(center, ccid, agent=hal, status=Offer.Status.CONNECTED)
    center.sandbox.hangup(ccid)


def test_nobody_free_means_the_caller_waits_until_an_agent_becomes_available(center):
    ivy = make_agent("ivy")
    make_queue("Sales", agents=[(1, ivy)], wrap_up_secs=0)
    center.sandbox.set_destinations({sip("ivy"): {"answer": "auto", "ring_ms": 200}})
    ccid = enter(center, "+15557770005")
    assert not Offer.objects.exists()

    available(ivy)  # the status change wakes the dispatcher
    offer_of(center, ccid, status=Offer.Status.CONNECTED)
    center.sandbox.hangup(ccid)


def test_an_agent_who_hangs_up_before_meeting_the_caller_puts_them_back_in_line(center):
    """Answered and dropped before the conference join: the caller is not cut off but rings the next agent."""
    alice, bob = make_agent("alice"), make_agent("bob")
    make_queue("Sales", agents=[(1, alice), (1, bob)], wrap_up_secs=0)
    center.sandbox.set_destinations({
        sip("alice"): {"answer": "auto", "ring_ms": 200, "hangup_after_ms": 1},  # picks up and drops at once
        sip("bob"): {"answer": "auto", "ring_ms": 200},
    })
    available(alice)
    ccid = center.sandbox.place_call(from_="+15557770009", to=QUEUE_LINE)["call_control_id"]
    first = entry_of(center, ccid)

    dropped = offer_of(center, ccid, agent=alice, end_reason="dropped before connecting")
    assert dropped.status == Offer.Status.FAILED
    away = agent_status(center, alice, Agent.Status.AWAY)
    assert away.status_reason == "Dropped a call"
    second = center.wait_for(lambda: QueueEntry.objects.filter(call__call_control_id=ccid, status="waiting")
                             .exclude(pk=first.pk).first(), message="the caller back in line")
    assert second.place_at == first.place_at  # they keep their place
    assert call_of(center, ccid).status != Call.Status.ENDED

    available(bob)
    offer = offer_of(center, ccid, agent=bob, status=Offer.Status.CONNECTED, conference_id__gt="")
    center.wait_for(lambda: (c := center.sandbox.conference(offer.conference_id)) and len(c["participants"]) == 2,
                    message="the caller and bob in one conference")
    assert center.sandbox.call(ccid)["state"] == "answered"
    first.refresh_from_db()
    assert (first.leave_reason, first.answered_at) == ("agent dropped", None)
    assert call_of(center, ccid).connected_at is not None  # bob's answer, not alice's
