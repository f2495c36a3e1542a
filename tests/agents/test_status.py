"""Agent status: one service, one mapping of moves, a history row for each, no lost update under concurrency."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from apps.agents.models import Agent, AgentStatusChange
from apps.agents.services import agent_change_own_status, agent_set_status
from apps.core.exceptions import ApplicationError
from tests.queues.conftest import make_agent

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_move_is_written_with_who_and_why(supervisor_user):
    agent = make_agent("ava")
    agent_change_own_status(agent=agent, status=Agent.Status.AVAILABLE, user=agent.user)
    agent_change_own_status(agent=agent, status=Agent.Status.AWAY, reason="Lunch", user=agent.user)
    agent.refresh_from_db()
    assert (agent.status, agent.status_reason) == (Agent.Status.AWAY, "Lunch")
    history = list(AgentStatusChange.objects.filter(agent=agent).order_by("at", "pk")
                   .values_list("old_status", "new_status", "reason", "actor__username"))
    assert history == [("offline", "available", "", "ava"), ("available", "away", "Lunch", "ava")]


def test_moves_outside_the_mapping_are_refused_and_change_nothing():
    agent = make_agent("bea")
    with pytest.raises(ApplicationError):
        agent_set_status(agent=agent, status=Agent.Status.ON_CALL)  # offline -> on call: not a move
    agent.refresh_from_db()
    assert agent.status == Agent.Status.OFFLINE and not agent.status_changes.exists()


def test_an_agent_cannot_walk_away_from_a_ringing_or_live_call():
    agent = make_agent("cid", status=Agent.Status.RINGING)
    with pytest.raises(ApplicationError, match="answer or decline"):
        agent_change_own_status(agent=agent, status=Agent.Status.AWAY, user=agent.user)
    Agent.objects.filter(pk=agent.pk).update(status=Agent.Status.ON_CALL)
    with pytest.raises(ApplicationError, match="hang up"):
        agent_change_own_status(agent=agent, status=Agent.Status.OFFLINE, user=agent.user)
    with pytest.raises(ApplicationError):
        agent_change_own_status(agent=agent, status=Agent.Status.RINGING, user=agent.user)


def test_an_agent_without_a_phone_cannot_become_available():
    agent = make_agent("dee")
    Agent.objects.filter(pk=agent.pk).update(sip_uri="")
    agent.refresh_from_db()
    with pytest.raises(ApplicationError, match="phone"):
        agent_change_own_status(agent=agent, status=Agent.Status.AVAILABLE, user=agent.user)


def test_a_stale_writer_loses_instead_of_overwriting():
    agent = make_agent("eve")
    agent_set_status(agent=agent, status=Agent.Status.AVAILABLE)
    stale = Agent.objects.get(pk=agent.pk)
    assert agent_set_status(agent=agent, status=Agent.Status.RINGING, expected=Agent.Status.AVAILABLE)
    # A writer that still thinks the agent is available changes nothing.
    assert not agent_set_status(agent=stale, status=Agent.Status.AWAY, reason="Break")
    assert Agent.objects.get(pk=agent.pk).status == Agent.Status.RINGING


def test_concurrent_moves_from_the_same_status_apply_exactly_once():
    agent = make_agent("fox")
    agent_set_status(agent=agent, status=Agent.Status.AVAILABLE)
    targets = [Agent.Status.RINGING, Agent.Status.AWAY, Agent.Status.OFFLINE] * 4
    barrier = threading.Barrier(len(targets))
    won = []

    def move(status):
        try:
            barrier.wait()
            copy = Agent.objects.get(pk=agent.pk)
            if agent_set_status(agent=copy, status=status, reason="race", expected=Agent.Status.AVAILABLE):
                won.append(status)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=move, args=(status,)) for status in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(won) == 1
    agent.refresh_from_db()
    assert agent.status == won[0]
    assert AgentStatusChange.objects.filter(agent=agent, old_status=Agent.Status.AVAILABLE).count() == 1
