"""A number routed to an agent: a direct line that rings that agent like a queue call, and a queue when they cannot."""

from __future__ import annotations

import pytest

from apps.agents.models import Agent
from apps.calls.greeting import FLOW as GREETING_FLOW
from apps.calls.models import Call
from apps.numbers.models import PhoneNumber
from apps.queues.flows import NOBODY_FOR_AGENT
from apps.queues.models import Offer, QueueEntry
from tests.queues.conftest import available, call_of, entry_of, make_agent, make_queue, offer_of, sent, sip

pytestmark = pytest.mark.e2e
ALICE_LINE = "+13125550170"
HOLD_MUSIC = "https://example.com/hold.mp3"


def direct_line(agent: Agent | None, **fields) -> PhoneNumber:
    return PhoneNumber.objects.create(e164=ALICE_LINE, label="Alice direct", route=PhoneNumber.Route.AGENT,
                                      agent=agent, **fields)


def team(**queue_settings):
    """Alice and Bob serve Sales; Alice has a direct line."""
    alice, bob = make_agent("alice"), make_agent("bob")
    sales = make_queue("Sales", agents=[(1, alice), (1, bob)], wrap_up_secs=0, hold_audio_url=HOLD_MUSIC,
                       **queue_settings)
    direct_line(alice)
    return alice, bob, sales


def test_a_call_to_an_agents_line_rings_that_agent_and_connects_them_in_a_conference(center):
    alice, bob, sales = team()
    center.sandbox.set_destinations({sip("alice"): {"answer": "auto", "ring_ms": 2000},
                                     sip("bob"): {"answer": "auto", "ring_ms": 200}})
    available(bob, alice)  # bob has been idle longer: a queue call would be his, this one is alice's
    ccid = center.sandbox.place_call(from_="+15557770101", to=ALICE_LINE)["call_control_id"]

    offer = offer_of(center, ccid, status=Offer.Status.CONNECTED, conference_id__gt="")
    assert offer.agent == alice
    center.wait_for(lambda: len(center.sandbox.conference(offer.conference_id)["participants"]) == 2,
                    message="the caller and alice in one conference")
    assert center.sandbox.conference(offer.conference_id)["hears"] == {
        ccid: [offer.agent_call_control_id], offer.agent_call_control_id: [ccid]}
    assert not Offer.objects.filter(agent=bob).exists()
    assert Agent.objects.get(pk=alice.pk).status == Agent.Status.ON_CALL
    # Answered, then the queue's hold music while alice's phone rang; the number's call shows where it came in.
    actions = [c["action"] for c in sent(center, ccid)]
    assert actions[:3] == ["answer", "enqueue", "playback_start"] and "leave_queue" in actions
    caller = call_of(center, ccid)
    assert caller.phone_number.route == PhoneNumber.Route.AGENT and caller.connected_at is not None
    assert not caller.events.filter(kind="rejected").exists()
    entry = QueueEntry.objects.get(call=caller)
    assert (entry.queue, entry.target_agent, entry.leave_reason) == (sales, alice, "answered")
    center.sandbox.hangup(ccid)


def test_a_call_to_an_agent_who_is_away_waits_in_their_queue_and_the_next_agent_takes_it(center):
    alice, bob, sales = team()
    center.sandbox.set_destinations({sip("bob"): {"answer": "auto", "ring_ms": 200}})
    Agent.objects.filter(pk=alice.pk).update(status=Agent.Status.AWAY, status_reason="Lunch")
    ccid = center.sandbox.place_call(from_="+15557770102", to=ALICE_LINE)["call_control_id"]

    entry = entry_of(center, ccid, entered_at__isnull=False)
    assert (entry.queue, entry.target_agent) == (sales, None)  # not waited for: alice is out
    assert call_of(center, ccid).events.get(kind="queue.target_unavailable").data["agent"] == "Alice"
    center.sandbox.wait_for_command(ccid, "playback_start")  # the caller hears Sales' hold music meanwhile
    assert call_of(center, ccid).status == Call.Status.ANSWERED

    available(bob)
    offer = offer_of(center, ccid, status=Offer.Status.CONNECTED)
    assert offer.agent == bob
    assert not Offer.objects.filter(agent=alice).exists()
    center.sandbox.hangup(ccid)


def test_an_agent_who_lets_their_line_ring_out_hands_the_caller_to_their_queue(center):
    alice, bob, sales = team(ring_timeout_secs=5)
    center.sandbox.set_destinations({sip("alice"): {"answer": "never"}, sip("bob"): {"answer": "auto", "ring_ms": 200}})
    available(alice, bob)
    ccid = center.sandbox.place_call(from_="+15557770103", to=ALICE_LINE)["call_control_id"]

    answered = offer_of(center, ccid, status=Offer.Status.CONNECTED)
    assert answered.agent == bob
    [missed] = Offer.objects.filter(agent=alice)
    assert (missed.status, missed.end_reason) == (Offer.Status.MISSED, "timeout")
    assert QueueEntry.objects.get(call__call_control_id=ccid).target_agent is None
    center.sandbox.hangup(ccid)


def test_the_numbers_own_queue_is_where_the_caller_goes_when_the_agent_cannot_answer(center):
    alice, carl = make_agent("alice"), make_agent("carl")
    make_queue("Sales", agents=[(1, alice)], line=None)
    reception = make_queue("Reception", agents=[(1, carl)], line=None, wrap_up_secs=0)
    direct_line(alice, queue=reception)
    center.sandbox.set_destinations({sip("carl"): {"answer": "auto", "ring_ms": 200}})
    available(carl)  # alice is offline

    ccid = center.sandbox.place_call(from_="+15557770104", to=ALICE_LINE)["call_control_id"]
    offer = offer_of(center, ccid, status=Offer.Status.CONNECTED)
    assert (offer.agent, offer.entry.queue) == (carl, reception)
    center.sandbox.hangup(ccid)


def test_an_agent_with_no_queue_to_fall_back_to_has_the_caller_told_so_not_rejected(center):
    loner = make_agent("loner")
    direct_line(loner)
    ccid = center.sandbox.place_call(from_="+15557770105", to=ALICE_LINE)["call_control_id"]

    center.sandbox.wait_for_event(ccid, "call.hangup", timeout=15)
    [speak] = sent(center, ccid, "speak")
    assert speak["body"]["payload"] == NOBODY_FOR_AGENT.format(name="Loner")
    caller = call_of(center, ccid, status=Call.Status.ENDED)
    assert caller.flow == GREETING_FLOW and caller.answered_at is not None
    assert [c["action"] for c in sent(center, ccid)] == ["answer", "speak", "hangup"]
