"""An agent on a call: hold, mute, keys, hang-up and wrap-up, and transfers, all from the workspace API."""

from __future__ import annotations

import pytest

from apps.agents.models import Agent
from apps.calls.models import Call
from apps.queues.models import Disposition, Offer, QueueEntry, Transfer
from apps.sandbox.client import SandboxError
from tests.queues.conftest import (
    QUEUE_LINE,
    agent_status,
    available,
    call_of,
    entry_of,
    make_agent,
    make_queue,
    offer_of,
    sip,
)

pytestmark = pytest.mark.e2e
OUTSIDE = "+13125550199"


def participants(center, offer) -> dict:
    """Who is in the offer's conference now (nobody before Telnyx has made it)."""
    try:
        conference = center.sandbox.conference(offer.conference_name)
    except SandboxError as exc:
        if exc.status == 404:
            return {}
        raise
    return {p["call_control_id"]: p for p in conference["participants"]}


def connected(center, client, name="quinn", **queue_settings):
    """A caller connected to agent ``name``; the agent is logged in to ``client``."""
    agent = make_agent(name)
    queue = make_queue("Sales", agents=[(1, agent)], **{"wrap_up_secs": 0, **queue_settings})
    center.sandbox.set_destinations({sip(name): {"answer": "auto", "ring_ms": 200}})
    available(agent)
    ccid = center.sandbox.place_call(from_="+15559990001", to=QUEUE_LINE)["call_control_id"]
    offer = offer_of(center, ccid, status=Offer.Status.CONNECTED, conference_id__gt="")
    center.wait_for(lambda: len(participants(center, offer)) == 2, message="both in the conference")
    client.force_login(agent.user)
    return agent, queue, ccid, offer


def keys_heard(center, ccid) -> list[str]:
    """Keys Telnyx played to the phone at the far end of a leg (send_dtmf on that leg)."""
    return [d["digits"] for d in center.sandbox.call(ccid)["dtmf_sent"]]


def post(client, offer, action, body=None, status=200):
    response = client.post(f"/api/offers/{offer.pk}/{action}/", body or {}, content_type="application/json")
    assert response.status_code == status, response.content
    return response.json()


def test_hold_mute_and_keys_act_on_the_call(center, client):
    agent, queue, ccid, offer = connected(center, client, hold_audio_url="https://example.com/hold.mp3")
    agent_leg = offer.agent_call_control_id

    assert post(client, offer, "hold", {"on": True})["held"] is True
    center.wait_for(lambda: participants(center, offer)[ccid]["on_hold"], message="the caller on hold")
    assert participants(center, offer)[agent_leg]["hears"] == []  # nobody to hear while the caller holds
    post(client, offer, "hold", {"on": False})
    center.wait_for(lambda: not participants(center, offer)[ccid]["on_hold"], message="the caller back")

    post(client, offer, "mute", {"on": True})
    center.wait_for(lambda: participants(center, offer)[agent_leg]["muted"], message="the agent muted")
    assert participants(center, offer)[ccid]["hears"] == []
    post(client, offer, "mute", {"on": False})

    # The agent's keys reach the caller's side (a company's menu calling in), not the agent's own phone.
    post(client, offer, "dtmf", {"digits": "12#"})
    center.wait_for(lambda: keys_heard(center, ccid) == ["12#"], message="the caller's side to hear the keys")
    assert keys_heard(center, agent_leg) == []
    post(client, offer, "dtmf", {"digits": "hello"}, status=400)
    center.sandbox.hangup(ccid)


def test_the_agent_hangs_up_picks_a_disposition_and_is_available_again(center, client):
    sale = Disposition.objects.create(name="Sale")
    agent, queue, ccid, offer = connected(center, client, wrap_up_secs=600)
    post(client, offer, "hangup")
    center.sandbox.wait_for_event(ccid, "call.hangup")  # the caller is released with the agent
    agent_status(center, agent, Agent.Status.WRAP_UP)
    ended = Offer.objects.get(pk=offer.pk)
    assert (ended.status, ended.end_reason) == (Offer.Status.ENDED, "hung up")

    post(client, offer, "wrap-up", {"disposition": sale.pk, "notes": "Ordered two licences."})
    agent_status(center, agent, Agent.Status.AVAILABLE)
    wrapped = Offer.objects.get(pk=offer.pk)
    assert (wrapped.disposition, wrapped.notes) == (sale, "Ordered two licences.") and wrapped.wrapped_at
    caller = call_of(center, ccid, status=Call.Status.ENDED)
    assert caller.caller_outcome == Call.Outcome.ANSWERED and caller.talk_seconds >= 0


def test_an_agent_may_leave_wrap_up_without_a_disposition(center, client):
    agent, queue, ccid, offer = connected(center, client, wrap_up_secs=600)
    post(client, offer, "hangup")
    agent_status(center, agent, Agent.Status.WRAP_UP)

    response = client.post("/api/agents/me/status/", {"status": "available"}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert Agent.objects.get(pk=agent.pk).status == Agent.Status.AVAILABLE
    skipped = Offer.objects.get(pk=offer.pk)
    assert skipped.wrapped_at and skipped.disposition is None  # the workspace closes the wrap-up form


def test_a_blind_transfer_to_a_queue_puts_the_caller_in_line_there(center, client):
    agent, queue, ccid, offer = connected(center, client)
    rita = make_agent("rita")
    support = make_queue("Support", agents=[(1, rita)], line=None, wrap_up_secs=0)
    center.sandbox.set_destinations({sip("rita"): {"answer": "auto", "ring_ms": 200}})
    available(rita)

    post(client, offer, "transfer", {"mode": "blind", "target": "queue", "queue": support.pk})
    moved = entry_of(center, ccid, queue=support)
    assert moved.place_at == QueueEntry.objects.get(pk=offer.entry_id).place_at
    second = offer_of(center, ccid, agent=rita, status=Offer.Status.CONNECTED)
    agent_status(center, agent, Agent.Status.AVAILABLE)  # the first agent's leg ended (no wrap-up here)
    assert Offer.objects.get(pk=offer.pk).end_reason == "transferred"
    center.wait_for(lambda: len(participants(center, second)) == 2, message="caller and the new agent")
    center.sandbox.hangup(ccid)


def test_a_blind_transfer_to_an_agent_rings_only_that_agent(center, client):
    agent, queue, ccid, offer = connected(center, client)
    sam, tom = make_agent("sam"), make_agent("tom")
    center.sandbox.set_destinations({sip("sam"): {"answer": "auto", "ring_ms": 200},
                                     sip("tom"): {"answer": "auto", "ring_ms": 200}})
    available(tom, sam)  # tom idles longer, but the caller is for sam

    post(client, offer, "transfer", {"mode": "blind", "target": "agent", "agent": sam.pk})
    second = offer_of(center, ccid, agent=sam, status=Offer.Status.CONNECTED)
    assert not Offer.objects.filter(agent=tom).exists()
    center.wait_for(lambda: len(participants(center, second)) == 2, message="caller and sam")
    center.sandbox.hangup(ccid)


def test_a_blind_transfer_to_an_agent_who_is_away_puts_the_caller_in_line_for_the_whole_queue(center, client):
    agent, queue, ccid, offer = connected(center, client)
    sam, tom = make_agent("sam"), make_agent("tom")
    queue.memberships.create(agent=tom, priority=1)
    center.sandbox.set_destinations({sip("sam"): {"answer": "auto", "ring_ms": 200},
                                     sip("tom"): {"answer": "auto", "ring_ms": 200}})
    available(sam, tom)
    client.force_login(sam.user)
    assert client.post("/api/agents/me/status/", {"status": "away", "reason": "Lunch"},
                       content_type="application/json").status_code == 200
    client.force_login(agent.user)
    targets = {a["name"]: a["status"] for a in client.get("/agent/").context["initial"]["targets"]["agents"]}
    assert targets == {"Sam": "away", "Tom": "available"}  # the transfer list says who is free

    post(client, offer, "transfer", {"mode": "blind", "target": "agent", "agent": sam.pk})
    moved = entry_of(center, ccid, queue=queue, target_agent__isnull=True, priority=100)
    second = offer_of(center, ccid, agent=tom, status=Offer.Status.CONNECTED)
    assert not Offer.objects.filter(agent=sam).exists()  # not rung, and not waited for
    assert call_of(center, ccid).events.filter(kind="queue.target_unavailable").exists()
    assert moved.place_at == QueueEntry.objects.get(pk=offer.entry_id).place_at
    center.wait_for(lambda: len(participants(center, second)) == 2, message="caller and tom")
    center.sandbox.hangup(ccid)


def test_a_warm_transfer_to_an_agent_consults_then_hands_the_caller_over(center, client):
    # Uma answers by hand: her phone rings the queue's longest timeout (6 s here) so a busy machine keeps up.
    agent, queue, ccid, offer = connected(center, client, ring_timeout_secs=120)
    uma = make_agent("uma")
    center.sandbox.set_destinations({sip("uma"): {"answer": "manual"}})
    available(uma)

    post(client, offer, "transfer", {"mode": "warm", "target": "agent", "agent": uma.pk})
    consult = center.wait_for(lambda: Offer.objects.filter(agent=uma, agent_call_control_id__gt="").first())
    center.wait_for(lambda: participants(center, offer)[ccid]["on_hold"], message="the caller held")
    post(client, offer, "transfer/complete", status=400)  # uma has not answered yet
    center.sandbox.answer(consult.agent_call_control_id)
    center.wait_for(lambda: Transfer.objects.filter(status=Transfer.Status.CONSULTING).exists())
    center.wait_for(lambda: consult.agent_call_control_id in participants(center, offer), message="uma joins")
    assert participants(center, offer)[consult.agent_call_control_id]["hears"] == [offer.agent_call_control_id]
    post(client, offer, "dtmf", {"digits": "9"})  # while consulting, keys go to the colleague being consulted
    center.wait_for(lambda: keys_heard(center, consult.agent_call_control_id) == ["9"], message="uma to get the key")
    assert keys_heard(center, ccid) == []

    post(client, offer, "transfer/complete")
    center.wait_for(lambda: set(participants(center, offer)) == {ccid, consult.agent_call_control_id},
                    message="the caller alone with uma")
    center.wait_for(lambda: not participants(center, offer)[ccid]["on_hold"], message="the caller unheld")
    agent_status(center, agent, Agent.Status.AVAILABLE)
    assert Agent.objects.get(pk=uma.pk).status == Agent.Status.ON_CALL
    assert participants(center, offer)[ccid]["hears"] == [consult.agent_call_control_id]
    center.sandbox.hangup(ccid)  # the caller leaves: uma's leg is released too, then her (0 s) wrap-up
    center.sandbox.wait_for_event(consult.agent_call_control_id, "call.hangup")
    agent_status(center, uma, Agent.Status.AVAILABLE)
    assert ("on_call", "wrap_up") in set(uma.status_changes.values_list("old_status", "new_status"))


def test_a_warm_transfer_to_a_number_can_be_cancelled(center, client):
    agent, queue, ccid, offer = connected(center, client)
    center.sandbox.set_destinations({OUTSIDE: {"answer": "auto", "ring_ms": 200}})

    post(client, offer, "transfer", {"mode": "warm", "target": "number", "to": OUTSIDE})
    outside = center.sandbox.wait_for_call(lambda c: c["to"] == OUTSIDE and c["conference"], direction="outgoing")
    assert participants(center, offer)[ccid]["on_hold"]
    # While consulting, the agent's keys drive the number's menu; the held caller hears none.
    center.wait_for(lambda: Transfer.objects.filter(status=Transfer.Status.CONSULTING).exists())
    post(client, offer, "dtmf", {"digits": "3"})
    center.wait_for(lambda: keys_heard(center, outside["call_control_id"]) == ["3"],
                    message="the number to get the key")
    assert keys_heard(center, ccid) == [] and keys_heard(center, offer.agent_call_control_id) == []
    post(client, offer, "transfer/cancel")
    center.sandbox.wait_for_event(outside["call_control_id"], "call.hangup")
    center.wait_for(lambda: not participants(center, offer)[ccid]["on_hold"], message="the caller back with the agent")
    assert Transfer.objects.get().status == Transfer.Status.CANCELLED
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.CONNECTED
    center.sandbox.hangup(ccid)


def test_a_blind_transfer_to_a_number_hands_the_caller_to_it(center, client):
    agent, queue, ccid, offer = connected(center, client)
    center.sandbox.set_destinations({OUTSIDE: {"answer": "auto", "ring_ms": 200}})

    post(client, offer, "transfer", {"mode": "blind", "target": "number", "to": OUTSIDE})
    outside = center.sandbox.wait_for_call(lambda c: c["to"] == OUTSIDE and c["state"] == "answered",
                                           direction="outgoing")
    assert center.sandbox.call(ccid)["bridged_with"] == outside["call_control_id"]
    agent_status(center, agent, Agent.Status.AVAILABLE)
    center.wait_for(lambda: Transfer.objects.filter(status=Transfer.Status.COMPLETED).exists())
    center.sandbox.hangup(ccid)


def test_an_agent_cannot_act_on_a_colleagues_call(center, client):
    agent, queue, ccid, offer = connected(center, client)
    nosy = make_agent("nosy")
    client.force_login(nosy.user)
    for action in ("hold", "hangup", "transfer", "wrap-up", "decline", "accept"):
        assert client.post(f"/api/offers/{offer.pk}/{action}/", {}, content_type="application/json").status_code == 404
    assert client.get(f"/api/offers/{offer.pk}/").status_code == 404
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.CONNECTED
    center.sandbox.hangup(ccid)
