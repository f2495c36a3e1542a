"""Agents, queues and callers for the routing tests."""

from __future__ import annotations

import pytest

from apps.agents.models import Agent
from apps.agents.services import agent_set_status
from apps.calls.models import Call
from apps.numbers.models import PhoneNumber
from apps.queues.models import Offer, Queue, QueueEntry, QueueMember
from tests.factories import UserFactory
from tests.ivr.conftest import queues  # noqa: F401  (the IVR flows' queues: the call-card test routes through one)

QUEUE_LINE = "+13125550160"


def sip(name: str) -> str:
    return f"sip:{name}@sandbox.telnyx.com"


def make_agent(name: str, **fields) -> Agent:
    user = UserFactory(username=name, first_name=name.title(), roles=["agent"])
    return Agent.objects.create(user=user, endpoint=Agent.Endpoint.SIP, sip_uri=sip(name), **fields)


def make_queue(name: str = "Sales", *, agents=(), line: str | None = QUEUE_LINE, **settings) -> Queue:
    """A queue with ``agents`` as ``[(priority, agent), ...]``, and ``line`` routed straight to it."""
    queue = Queue.objects.create(name=name, **settings)
    for priority, agent in agents:
        QueueMember.objects.create(queue=queue, agent=agent, priority=priority)
    if line:
        PhoneNumber.objects.update_or_create(
            e164=line, defaults={"label": f"{name} line", "route": PhoneNumber.Route.QUEUE, "queue": queue}
        )
    return queue


def available(*agents: Agent) -> None:
    """Agents become available in this order (the first has been idle longest)."""
    for agent in agents:
        agent.refresh_from_db()
        agent_set_status(agent=agent, status=Agent.Status.AVAILABLE)


def entry_of(center, ccid: str, **filters) -> QueueEntry:
    return center.wait_for(
        lambda: QueueEntry.objects.filter(call__call_control_id=ccid, **filters).select_related("queue", "call")
        .order_by("-created_at").first(),
        timeout=15, message=f"a queue entry of {ccid} with {filters}",
    )


def enter(center, caller: str, *, to: str = QUEUE_LINE, **script) -> str:
    """A caller rings the queue line; returns once Telnyx has put them in the queue."""
    ccid = center.sandbox.place_call(from_=caller, to=to, **script)["call_control_id"]
    entry_of(center, ccid, entered_at__isnull=False)
    return ccid


def offer_of(center, ccid: str, **filters) -> Offer:
    return center.wait_for(
        lambda: Offer.objects.filter(entry__call__call_control_id=ccid, **filters).select_related("agent__user")
        .order_by("-created_at").first(),
        timeout=15, message=f"an offer for {ccid} with {filters}",
    )


def agent_status(center, agent: Agent, status: str, timeout: float = 15) -> Agent:
    return center.wait_for(lambda: Agent.objects.filter(pk=agent.pk, status=status).first(), timeout=timeout,
                           message=f"{agent.user.username} to be {status}")


def call_of(center, ccid: str, **filters) -> Call:
    return center.wait_for(lambda: Call.objects.filter(call_control_id=ccid, **filters).first(), timeout=15,
                           message=f"call {ccid} with {filters}")


def sent(center, ccid: str, *actions: str) -> list[dict]:
    """Commands Telnyx applied on a leg (repeats it dropped excluded)."""
    commands = [c for c in center.sandbox.commands(call_control_id=ccid) if not c.get("deduped") and c["status"] == 200]
    return [c for c in commands if not actions or c["action"] in actions]


@pytest.fixture
def agent_factory(db):
    return make_agent


@pytest.fixture
def queue_factory(db):
    return make_queue
