"""A call stays on the agent's screen until it has a disposition, even once they are available again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.agents.models import Agent
from apps.queues.models import Disposition, Offer, QueueEntry
from apps.queues.selectors import agent_current_offer
from tests.factories import CallFactory
from tests.queues.conftest import make_agent, make_queue, sip

pytestmark = pytest.mark.django_db


def _talked(agent, *, ended_ago=timedelta(seconds=5), **fields) -> Offer:
    queue = make_queue("Sales", agents=[(1, agent)], line=None, wrap_up_secs=0)
    entry = QueueEntry.objects.create(call=CallFactory(), queue=queue, status=QueueEntry.Status.LEFT)
    ended = timezone.now() - ended_ago
    return Offer.objects.create(entry=entry, agent=agent, status=Offer.Status.ENDED, dial_to=sip(agent.user.username),
                                answered_at=ended - timedelta(minutes=3), ended_at=ended, **fields)


def test_with_no_wrap_up_time_the_agent_still_gives_the_disposition_while_available(client):
    agent = make_agent("nia")
    Agent.objects.filter(pk=agent.pk).update(status=Agent.Status.AVAILABLE)  # a queue without wrap-up time
    offer = _talked(agent)
    sale = Disposition.objects.create(name="Sale")
    assert agent_current_offer(agent) == offer

    client.force_login(agent.user)
    shown = client.get(f"/api/offers/{offer.pk}/").json()
    assert shown["awaits_wrap_up"] is True
    response = client.post(f"/api/offers/{offer.pk}/wrap-up/", {"disposition": sale.pk, "notes": "Two seats."},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["awaits_wrap_up"] is False

    agent.refresh_from_db()
    assert agent.status == Agent.Status.AVAILABLE
    assert agent_current_offer(agent) is None
    offer.refresh_from_db()
    assert (offer.disposition, offer.notes) == (sale, "Two seats.")


@pytest.mark.parametrize("fields, ended_ago", [
    ({"end_reason": "callback not answered"}, timedelta(seconds=5)),  # nobody was talked to
    ({"wrapped_at": timezone.now()}, timedelta(seconds=5)),  # done already
    ({}, timedelta(hours=2)),  # long gone: not left on screen for ever
])
def test_calls_with_nothing_to_wrap_up_leave_the_screen(fields, ended_ago):
    agent = make_agent("nia")
    Agent.objects.filter(pk=agent.pk).update(status=Agent.Status.AVAILABLE)
    _talked(agent, ended_ago=ended_ago, **fields)
    assert agent_current_offer(Agent.objects.get(pk=agent.pk)) is None
