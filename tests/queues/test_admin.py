"""Django admin for agents, skills, queues and dispositions."""

import pytest

from apps.agents.models import Agent, Skill
from apps.queues.models import Disposition, QueueMember
from tests.queues.conftest import make_agent, make_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    return client


def test_every_routing_page_of_the_admin_opens(staff):
    alice = make_agent("alice")
    queue = make_queue("Sales", agents=[(1, alice)])
    Disposition.objects.create(name="Sale")
    for url in ("/admin/agents/agent/", f"/admin/agents/agent/{alice.pk}/change/", "/admin/agents/skill/",
                "/admin/agents/agentstatuschange/", "/admin/queues/queue/", f"/admin/queues/queue/{queue.pk}/change/",
                "/admin/queues/disposition/", "/admin/queues/queueentry/", "/admin/queues/offer/",
                "/admin/queues/transfer/"):
        assert staff.get(url).status_code == 200, url


def test_the_admin_edits_membership_but_never_moves_an_agents_status(staff):
    alice = make_agent("alice")
    queue = make_queue("Sales")
    skill = Skill.objects.create(name="French")
    form = {
        "user": alice.user.pk, "endpoint": "sip", "sip_uri": "sip:alice@example.com", "status": "available",
        "agent_skills-TOTAL_FORMS": "1", "agent_skills-INITIAL_FORMS": "0",
        "agent_skills-0-skill": skill.pk, "agent_skills-0-level": "7",
        "status_changes-TOTAL_FORMS": "0", "status_changes-INITIAL_FORMS": "0",
    }
    response = staff.post(f"/admin/agents/agent/{alice.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    alice.refresh_from_db()
    assert alice.sip_uri == "sip:alice@example.com"
    assert alice.agent_skills.get().level == 7
    assert alice.status == Agent.Status.OFFLINE  # status is the state machine's, not a form field

    response = staff.post(f"/admin/queues/queue/{queue.pk}/change/", {
        "name": "Sales", "strategy": "round_robin", "ring_timeout_secs": "15", "wrap_up_secs": "10",
        "announce_every_secs": "0", "max_wait_secs": "0", "overflow_action": "none", "service_level_secs": "20",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
        "memberships-0-agent": alice.pk, "memberships-0-priority": "2",
        "required_skills-TOTAL_FORMS": "0", "required_skills-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert QueueMember.objects.get(queue=queue).priority == 2
