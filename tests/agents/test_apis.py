"""Agents' and skills' API and pages: admins change, supervisors read, an agent acts on themselves only."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from asgiref.sync import async_to_sync, sync_to_async

from apps.agents.models import Agent, Skill
from apps.agents.services import agent_set_status
from apps.telnyx.client import TelnyxClient
from apps.telnyx.models import TelnyxCommand
from tests.factories import UserFactory
from tests.live import live_socket
from tests.queues.conftest import make_agent, make_queue

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_makes_a_user_an_agent_with_a_phone_and_skills(client, admin_user):
    spanish = Skill.objects.create(name="Spanish")
    user = UserFactory(username="newbie")
    client.force_login(admin_user)
    response = client.post("/api/agents/", {
        "username": "newbie", "endpoint": "sip", "sip_uri": "sip:newbie@example.com",
        "skills": [{"skill": spanish.pk, "level": 7}],
    }, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["dial_target"], body["status"], body["skills"]) == (
        "sip:newbie@example.com", "offline", [{"skill": spanish.pk, "name": "Spanish", "level": 7}])
    assert user.groups.filter(name="agent").exists()

    bad = client.post("/api/agents/", {"username": "newbie"}, content_type="application/json")
    assert bad.status_code == 400  # already an agent
    agent = Agent.objects.get(user=user)
    patched = client.patch(f"/api/agents/{agent.pk}/", {"endpoint": "number", "phone_number": "+1 312 555 0199"},
                           content_type="application/json")
    assert patched.json()["dial_target"] == "+13125550199"
    refused = client.patch(f"/api/agents/{agent.pk}/", {"endpoint": "webrtc", "sip_username": ""},
                           content_type="application/json")
    assert refused.status_code == 400 and "credential" in refused.json()["message"]


def test_supervisors_read_agents_but_change_nothing(client, supervisor_user):
    agent = make_agent("gil")
    client.force_login(supervisor_user)
    assert [a["username"] for a in client.get("/api/agents/").json()] == ["gil"]
    assert client.get(f"/api/agents/{agent.pk}/history/").status_code == 200
    assert client.patch(f"/api/agents/{agent.pk}/", {"sip_uri": "sip:x@y.z"},
                        content_type="application/json").status_code == 403
    assert client.post("/api/skills/", {"name": "French"}, content_type="application/json").status_code == 403
    assert client.get("/agents/").status_code == 200
    assert client.post("/agents/", {"endpoint": "sip"}).status_code == 403


def test_an_agent_sees_and_moves_only_themselves(client):
    me, colleague = make_agent("hana"), make_agent("igor")
    client.force_login(me.user)
    assert client.get("/api/agents/me/").json()["username"] == "hana"
    assert client.get(f"/api/agents/{colleague.pk}/").status_code == 403
    assert client.get(f"/api/agents/{colleague.pk}/history/").status_code == 403
    assert client.get("/api/agents/").status_code == 403
    response = client.post("/api/agents/me/status/", {"status": "away", "reason": "Lunch"},
                           content_type="application/json")
    assert response.json()["status_reason"] == "Lunch"
    assert client.post("/api/agents/me/status/", {"status": "on_call"},
                       content_type="application/json").status_code == 400
    assert Agent.objects.get(pk=colleague.pk).status == Agent.Status.OFFLINE
    assert client.get("/agents/").status_code == 403


def test_an_agent_socket_joins_its_own_group_and_may_not_subscribe_to_a_colleagues(client):
    me, colleague = make_agent("jade"), make_agent("kurt")
    queue = make_queue("Mine", agents=[(1, me)], line=None)
    other = make_queue("Theirs", agents=[(1, colleague)], line=None)
    client.force_login(me.user)

    async def scenario():
        socket = live_socket(client)
        connected, _ = await socket.connect()
        assert connected
        hello = await socket.receive_json_from()
        assert hello["workspace"]["agent"]["username"] == "jade"
        assert [q["name"] for q in hello["workspace"]["queues"]] == ["Mine"]
        answers = []
        for group in (f"agent-{colleague.pk}", f"queue-{other.pk}", f"agent-{me.pk}", f"queue-{queue.pk}"):
            await socket.send_json_to({"action": "subscribe", "group": group})
            answers.append((await socket.receive_json_from())["type"])
        await socket.disconnect()
        return answers

    assert async_to_sync(scenario)() == ["refused", "refused", "subscribed", "subscribed"]


def test_an_agents_transfer_list_shows_colleagues_status_and_follows_it_live(client):
    """Colleagues in no queue of mine too: the list is for transfers, and says only whether they are free."""
    me, colleague = make_agent("nell"), make_agent("otto")
    make_queue("Mine", agents=[(1, me)], line=None)
    client.force_login(me.user)

    async def scenario():
        socket = live_socket(client)
        connected, _ = await socket.connect()
        assert connected
        hello = await socket.receive_json_from()
        listed = hello["workspace"]["targets"]["agents"]
        await sync_to_async(agent_set_status)(agent=colleague, status=Agent.Status.AWAY, reason="Lunch")
        pushed = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return listed, pushed

    listed, pushed = async_to_sync(scenario)()
    assert [(a["name"], a["status"], a["status_label"]) for a in listed] == [("Otto", "offline", "Offline")]
    assert pushed["type"] == "agent.presence"
    assert pushed["agent"] == {"id": colleague.pk, "name": "Otto", "status": "away", "status_label": "Away",
                               "version": pushed["agent"]["version"]}  # not why: that is between them and supervisors


def test_the_softphone_token_is_minted_by_telnyx_for_the_agents_credential(client, telnyx_api, monkeypatch):
    edge = TelnyxClient(base_url="https://api.telnyx.test/v2", api_key="KEY_test",
                        transport=httpx.MockTransport(telnyx_api.handler))
    monkeypatch.setattr("apps.agents.services.get_client", lambda: edge)
    agent = make_agent("lola")
    Agent.objects.filter(pk=agent.pk).update(endpoint=Agent.Endpoint.WEBRTC, telephony_credential_id="cred-123",
                                             sip_username="gencredlola")
    telnyx_api.respond_text(201, "header.claims.signature")
    client.force_login(agent.user)
    response = client.post("/api/agents/me/softphone-token/")
    assert response.json() == {"token": "header.claims.signature", "sip_username": "gencredlola"}
    [request] = telnyx_api.requests
    assert (request["method"], request["path"]) == ("POST", "/v2/telephony_credentials/cred-123/token")
    assert not TelnyxCommand.objects.exists()  # minted at once, not a Call Control command


@pytest.mark.e2e
def test_the_sandbox_mints_a_jwt_shaped_token(center, client):
    agent = make_agent("mona")
    Agent.objects.filter(pk=agent.pk).update(endpoint=Agent.Endpoint.WEBRTC, telephony_credential_id="cred-9",
                                             sip_username="gencredmona")
    client.force_login(agent.user)
    token = client.post("/api/agents/me/softphone-token/").json()["token"]
    header, claims, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert decoded["sub"] == "cred-9" and decoded["exp"] > decoded["iat"] and signature
    [logged] = center.sandbox.commands(action="telephony_credential.token")
    assert logged["status"] == 201


def test_the_workspace_page_is_for_agents_and_says_when_there_is_no_profile(client, agent_user, supervisor_user):
    client.force_login(agent_user)
    page = client.get("/agent/")
    assert page.status_code == 200 and b"no agent profile" in page.content
    agent = make_agent("nora")
    client.force_login(agent.user)
    page = client.get("/agent/")
    assert b'id="workspace"' in page.content and b"workspace-initial" in page.content
    client.force_login(supervisor_user)
    assert client.get("/agent/").status_code == 403


def test_an_admin_adds_an_agent_on_the_agents_page(client, admin_user):
    Skill.objects.create(name="Billing")
    billing = Skill.objects.get()
    UserFactory(username="otto")
    user_id = UserFactory._meta.model.objects.get(username="otto").pk
    client.force_login(admin_user)
    response = client.post("/agents/", {"user": user_id, "endpoint": "sip", "sip_uri": "sip:otto@example.com",
                                        f"skill_{billing.pk}": "4"})
    assert response.status_code == 302
    agent = Agent.objects.get(user__username="otto")
    assert (agent.sip_uri, agent.agent_skills.get().level) == ("sip:otto@example.com", 4)
    page = client.post(f"/agents/{agent.pk}/", {"endpoint": "sip", "sip_uri": "not a uri"})
    assert page.status_code == 200 and b"SIP URI" in page.content
    assert client.post("/agents/skills/", {"name": "Billing"}).status_code == 302  # duplicate: a message, no error
    assert Skill.objects.count() == 1


def test_a_voicemail_call_back_rings_the_agents_own_phone_by_default(client, telnyx_api):
    from apps.recordings.models import Recording, Voicemail, VoicemailBox

    agent = make_agent("pete")
    box = VoicemailBox.objects.create(name="Box", callback_number="+13125550100")
    voicemail = Voicemail.objects.create(box=box, recording=Recording.objects.create(), from_number="+13125550177")
    client.force_login(agent.user)
    response = client.post(f"/api/voicemail/messages/{voicemail.pk}/callback/", {}, content_type="application/json")
    assert response.status_code == 202, response.content
    assert response.json()["user_phone"] == "sip:pete@sandbox.telnyx.com"
    assert client.get("/voicemail/").context["callback_phone"] == "sip:pete@sandbox.telnyx.com"
