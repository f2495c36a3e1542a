"""The periodic tick: what no webhook triggers (wrap-up ends), and what a lost webhook left behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.agents.models import Agent
from apps.agents.services import agent_set_status
from apps.calls.models import Call
from apps.queues.models import Offer, QueueEntry
from apps.queues.services.dispatch import BATCH, queue_dispatch
from apps.queues.services.tick import queues_tick
from tests.queues.conftest import available, make_agent, make_queue
from tests.queues.test_dispatch import dialled, waiting

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_ringing_offer_whose_webhooks_never_came_is_given_up_and_the_caller_offered_on(telnyx_api):
    first, second = make_agent("fay"), make_agent("gus")
    queue = make_queue("Sales", agents=[(1, first), (2, second)], ring_timeout_secs=20, line=None)
    available(first, second)
    [entry] = waiting(queue)
    assert queue_dispatch().offers == 1
    offer = Offer.objects.get(entry=entry)
    assert offer.agent == first
    assert queues_tick().stale_offers == 0  # still within its ring time: nothing to do

    # Fay's leg never reported back: well past the ring timeout the tick gives up on it.
    Offer.objects.filter(pk=offer.pk).update(created_at=timezone.now() - timedelta(seconds=120))
    result = queues_tick()
    assert result.stale_offers == 1
    offer.refresh_from_db()
    assert (offer.status, offer.end_reason) == (Offer.Status.MISSED, "no answer (no webhook)")
    fay = Agent.objects.get(pk=first.pk)
    assert (fay.status, fay.status_reason) == (Agent.Status.AWAY, "Missed call")
    # The caller is not lost: back in line, they are offered to the next agent at once.
    assert dialled(telnyx_api)[-1] == second.sip_uri
    assert Offer.objects.get(entry=entry, status=Offer.Status.RINGING).agent == second
    assert QueueEntry.objects.get(pk=entry.pk).status == QueueEntry.Status.OFFERED


def test_wrap_up_ends_at_the_queues_limit_not_before(telnyx_api):
    agent = make_agent("hal")
    queue = make_queue("Support", agents=[(1, agent)], wrap_up_secs=45, line=None)
    available(agent)
    [entry] = waiting(queue)
    queue_dispatch()
    Offer.objects.filter(entry=entry).update(status=Offer.Status.ENDED, answered_at=timezone.now())
    for status in (Agent.Status.ON_CALL, Agent.Status.WRAP_UP):
        agent.refresh_from_db()
        assert agent_set_status(agent=agent, status=status)

    Agent.objects.filter(pk=agent.pk).update(status_changed_at=timezone.now() - timedelta(seconds=30))
    assert queues_tick().wrap_ups_ended == 0
    assert Agent.objects.get(pk=agent.pk).status == Agent.Status.WRAP_UP

    Agent.objects.filter(pk=agent.pk).update(status_changed_at=timezone.now() - timedelta(seconds=46))
    assert queues_tick().wrap_ups_ended == 1
    assert Agent.objects.get(pk=agent.pk).status == Agent.Status.AVAILABLE


def test_the_tick_finds_a_free_agent_a_caller_behind_hundreds_waiting_in_a_queue_nobody_serves(telnyx_api):
    ann = make_agent("ann")
    unserved = make_queue("Night shift", line=None)  # no members at all
    served = make_queue("Sales", agents=[(1, ann)], line=None)
    available(ann)
    now = timezone.now()
    calls = Call.objects.bulk_create(
        Call(call_control_id=f"v3:night-{n}", direction=Call.Direction.INBOUND, status=Call.Status.ANSWERED,
             from_number=f"+1555444{n:04d}", to_number="+13125550100") for n in range(BATCH + 50)
    )
    QueueEntry.objects.bulk_create(
        QueueEntry(call=call, queue=unserved, entered_at=now, place_at=now - timedelta(minutes=30, seconds=n))
        for n, call in enumerate(calls)
    )
    [caller] = waiting(served)

    assert queues_tick().offers == 1
    assert Offer.objects.get().entry == caller
