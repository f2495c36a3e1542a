"""Queues' and dispositions' API and pages: admins configure, supervisors read and reorder the line."""

from __future__ import annotations

import pytest

from apps.queues.models import Disposition, Offer, Queue, QueueEntry
from tests.queues.conftest import make_agent, make_queue
from tests.queues.test_dispatch import waiting

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_creates_a_queue_with_members_skills_and_overflow(client, admin_user):
    from apps.agents.models import Skill

    ann, ben = make_agent("ann"), make_agent("ben")
    french = Skill.objects.create(name="French")
    backup = make_queue("Backup", line=None)
    client.force_login(admin_user)
    response = client.post("/api/queues/", {
        "name": "Sales", "strategy": "skills", "ring_timeout_secs": 15, "wrap_up_secs": 45,
        "hold_audio_url": "https://example.com/hold.mp3", "announce_every_secs": 60, "max_wait_secs": 300,
        "overflow_action": "queue", "overflow_queue": backup.pk, "service_level_secs": 30,
        "members": [{"agent": ann.pk, "priority": 1}, {"agent": ben.pk, "priority": 2}],
        "skills": [{"skill": french.pk, "min_level": 4}],
    }, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(m["name"], m["priority"]) for m in body["members"]] == [("Ann", 1), ("Ben", 2)]
    assert body["skills"] == [{"skill": french.pk, "name": "French", "min_level": 4}]
    assert body["stats"]["agents"] == {"total": 2, "available": 0, "busy": 0}

    queue = Queue.objects.get(name="Sales")
    patched = client.patch(f"/api/queues/{queue.pk}/", {"members": [{"agent": ben.pk, "priority": 1}]},
                           content_type="application/json")
    assert [m["name"] for m in patched.json()["members"]] == ["Ben"]


@pytest.mark.parametrize("fields, message", [
    ({"overflow_action": "voicemail"}, "maximum wait"),
    ({"overflow_action": "queue", "max_wait_secs": 60}, "Choose the queue"),
    ({"callback_number": "12"}, "E.164"),
])
def test_a_queue_that_cannot_work_is_refused_with_a_reason(client, admin_user, fields, message):
    client.force_login(admin_user)
    response = client.post("/api/queues/", {"name": "Broken", **fields}, content_type="application/json")
    assert response.status_code == 400 and message in response.json()["message"]
    assert not Queue.objects.exists()


def test_a_queue_cannot_overflow_to_itself(client, admin_user):
    queue = make_queue("Loop", line=None)
    client.force_login(admin_user)
    response = client.patch(f"/api/queues/{queue.pk}/", {"overflow_action": "queue", "max_wait_secs": 60,
                                                         "overflow_queue": queue.pk}, content_type="application/json")
    assert response.status_code == 400 and "itself" in response.json()["message"]


def test_supervisors_read_queues_and_move_a_caller_up_the_line(client, supervisor_user):
    queue = make_queue("Sales", line=None)
    first, second = waiting(queue, 2)
    client.force_login(supervisor_user)
    assert client.get("/api/queues/").json()[0]["stats"]["waiting"] == 2
    assert client.post("/api/queues/", {"name": "X"}, content_type="application/json").status_code == 403
    assert [e["id"] for e in client.get(f"/api/queues/{queue.pk}/entries/").json()] == [first.pk, second.pk]
    bumped = client.post(f"/api/queues/entries/{second.pk}/priority/", {"priority": 5},
                         content_type="application/json")
    assert bumped.json()["position"] == 1
    assert [e["id"] for e in client.get(f"/api/queues/{queue.pk}/entries/").json()] == [second.pk, first.pk]
    assert second.call.events.filter(kind="queue.priority", actor=supervisor_user).exists()


def test_agents_read_dispositions_but_not_the_queue_configuration(client):
    agent = make_agent("cal")
    Disposition.objects.create(name="Sale")
    client.force_login(agent.user)
    assert [d["name"] for d in client.get("/api/dispositions/").json()] == ["Sale"]
    assert client.get("/api/queues/").status_code == 403
    assert client.post("/api/dispositions/", {"name": "Mine"}, content_type="application/json").status_code == 403
    assert client.get("/queues/").status_code == 403


def test_a_disposition_given_to_calls_is_retired_not_deleted(client, admin_user):
    used, unused = Disposition.objects.create(name="Sale"), Disposition.objects.create(name="Spam")
    queue = make_queue("Sales", line=None)
    agent = make_agent("dan")
    [entry] = waiting(queue)
    Offer.objects.create(entry=entry, agent=agent, dial_to="sip:x@y", status=Offer.Status.ENDED, disposition=used)
    client.force_login(admin_user)
    assert client.delete(f"/api/dispositions/{used.pk}/").status_code == 204
    assert client.delete(f"/api/dispositions/{unused.pk}/").status_code == 204
    assert list(Disposition.objects.values_list("name", "active")) == [("Sale", False)]


def test_the_queue_pages_edit_for_admins_and_show_for_supervisors(client, admin_user, supervisor_user):
    ann = make_agent("ann")
    client.force_login(admin_user)
    response = client.post("/queues/new/", {
        "name": "Support", "strategy": "round_robin", "ring_timeout_secs": 20, "wrap_up_secs": 10,
        "announce_every_secs": 0, "max_wait_secs": 0, "overflow_action": "none", "service_level_secs": 20,
        f"member_{ann.pk}": "on", f"priority_{ann.pk}": "3",
    })
    assert response.status_code == 302, response.content
    queue = Queue.objects.get(name="Support")
    assert list(queue.memberships.values_list("agent__user__username", "priority")) == [("ann", 3)]
    bad = client.post(f"/queues/{queue.pk}/", {"name": "Support", "strategy": "longest_idle", "ring_timeout_secs": 20,
                                                "wrap_up_secs": 10, "announce_every_secs": 0, "max_wait_secs": 0,
                                                "overflow_action": "callback", "service_level_secs": 20})
    assert bad.status_code == 200 and b"maximum wait" in bad.content
    client.force_login(supervisor_user)
    page = client.get(f"/queues/{queue.pk}/")
    assert page.status_code == 200 and b"disabled" in page.content
    assert client.post(f"/queues/{queue.pk}/", {"name": "Hijacked"}).status_code == 403
    assert Queue.objects.get(pk=queue.pk).name == "Support"


def test_a_queue_with_call_history_cannot_be_deleted(client, admin_user):
    queue = make_queue("Sales", line=None)
    waiting(queue)
    client.force_login(admin_user)
    response = client.delete(f"/api/queues/{queue.pk}/")
    assert response.status_code == 400 and "history" in response.json()["message"]
    assert QueueEntry.objects.filter(queue=queue).exists()
