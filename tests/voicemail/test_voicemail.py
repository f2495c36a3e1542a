"""Voicemails land in their box; agents and supervisors play them, mark them handled and call back."""

import pytest
from django.db import transaction

from apps.calls.models import Call
from apps.recordings.models import Recording, Voicemail, VoicemailBox, VoicemailCallback
from apps.recordings.voicemail.services import voicemail_create
from tests.factories import CallFactory
from tests.ivr.flows import install, two_level
from tests.ivr.test_e2e import CALLER, IVR_LINE, voicemail_left

AGENT_PHONE = "sip:alex@sandbox.telnyx.com"


def messages_url(box):
    return f"/api/voicemail/boxes/{box.pk}/messages/"


@pytest.fixture
def box(db):
    return VoicemailBox.objects.create(name="Sales voicemail", callback_number="+13125550100")


@pytest.fixture
def agent_phone(agent_user):
    """The agent's own phone, which their call-backs ring."""
    from apps.agents.models import Agent

    Agent.objects.create(user=agent_user, endpoint=Agent.Endpoint.SIP, sip_uri=AGENT_PHONE)
    return AGENT_PHONE


@pytest.fixture
def voicemail(box):
    call = CallFactory(from_number="+15550001111", to_number="+13125550100", caller_name="Ann")
    recording = Recording.objects.create(call=call, purpose="voicemail", telnyx_recording_id="rec-1",
                                         status=Recording.Status.STORED)
    with transaction.atomic():
        return voicemail_create(recording=recording, box=box, call=call)


@pytest.mark.django_db
class TestApi:
    def test_agents_and_supervisors_list_boxes_and_messages(self, client, agent_user, supervisor_user, box, voicemail):
        for user in (agent_user, supervisor_user):
            client.force_login(user)
            boxes = client.get("/api/voicemail/boxes/").json()
            assert [(b["name"], b["new_count"], b["total_count"]) for b in boxes] == [("Sales voicemail", 1, 1)]
            [message] = client.get(messages_url(box)).json()
            assert (message["from_number"], message["caller_name"], message["status"]) == ("+15550001111", "Ann", "new")
            assert message["audio_url"] == f"/recordings/{voicemail.recording_id}/audio/"

    def test_outsiders_see_no_voicemail(self, client, outsider, box, voicemail):
        client.force_login(outsider)
        assert client.get("/api/voicemail/boxes/").status_code == 403
        assert client.get(messages_url(box)).status_code == 403
        assert client.post(f"/api/voicemail/messages/{voicemail.pk}/handle/").status_code == 403
        assert client.get("/voicemail/").status_code == 403

    def test_marking_handled_records_who_and_when_and_can_be_undone(self, client, agent_user, box, voicemail):
        client.force_login(agent_user)
        handled = client.post(f"/api/voicemail/messages/{voicemail.pk}/handle/", {}, content_type="application/json")
        assert handled.status_code == 200
        assert (handled.json()["status"], handled.json()["handled_by"]) == ("handled", "alex")
        assert client.get(messages_url(box), {"status": "new"}).json() == []
        assert voicemail.call.events.filter(kind="voicemail.handled", actor=agent_user).exists()
        reopened = client.post(f"/api/voicemail/messages/{voicemail.pk}/handle/", {"handled": False},
                               content_type="application/json").json()
        assert (reopened["status"], reopened["handled_by"]) == ("new", None)

    def test_only_admins_edit_a_box(self, client, admin_user, agent_user, box):
        url = f"/api/voicemail/boxes/{box.pk}/"
        client.force_login(agent_user)
        assert client.patch(url, {"callback_number": "+13125550111"}, content_type="application/json").status_code == 403
        client.force_login(admin_user)
        bad = client.patch(url, {"callback_number": "555-1234"}, content_type="application/json")
        assert bad.status_code == 400 and "E.164" in bad.json()["message"]
        assert client.patch(url, {"callback_number": "+13125550111"}, content_type="application/json").status_code == 200
        box.refresh_from_db()
        assert box.callback_number == "+13125550111"

    def test_an_agent_may_play_a_voicemail_but_not_other_recordings(self, client, agent_user, voicemail, tmp_path,
                                                                   settings):
        from django.core.files.base import ContentFile

        settings.STORAGES = {**settings.STORAGES, "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
        recording = voicemail.recording
        recording.file.save("rec-1.mp3", ContentFile(b"ID3audio"), save=True)
        other = Recording.objects.create(purpose="call", telnyx_recording_id="rec-2", status=Recording.Status.STORED)
        client.force_login(agent_user)
        response = client.get(f"/recordings/{recording.pk}/audio/")
        assert response.status_code == 200 and b"".join(response.streaming_content) == b"ID3audio"
        assert client.get(f"/recordings/{other.pk}/audio/").status_code == 403

    def test_a_call_back_needs_a_phone_to_ring_first(self, client, agent_user, voicemail):
        client.force_login(agent_user)
        url = f"/api/voicemail/messages/{voicemail.pk}/callback/"
        response = client.post(url, {}, content_type="application/json")
        assert response.status_code == 400 and "phone to ring first" in response.json()["message"]
        assert client.post(url, {"phone": "my desk"}, content_type="application/json").status_code == 400
        assert not VoicemailCallback.objects.exists()

    def test_an_agent_calls_back_only_from_their_own_phone(self, client, agent_user, agent_phone, voicemail):
        # A call-back dials out on the company's line: no ringing any number an agent types.
        client.force_login(agent_user)
        url = f"/api/voicemail/messages/{voicemail.pk}/callback/"
        refused = client.post(url, {"phone": "+19005550199"}, content_type="application/json")
        assert refused.status_code == 400 and "own phone" in refused.json()["message"]
        assert not VoicemailCallback.objects.exists()
        assert client.post(url, {}, content_type="application/json").status_code == 202
        assert VoicemailCallback.objects.get().user_phone == AGENT_PHONE

    def test_a_supervisor_may_ring_the_phone_they_name(self, client, supervisor_user, voicemail):
        client.force_login(supervisor_user)
        response = client.post(f"/api/voicemail/messages/{voicemail.pk}/callback/", {"phone": "+13125550177"},
                               content_type="application/json")
        assert response.status_code == 202
        assert VoicemailCallback.objects.get().user_phone == "+13125550177"

    def test_an_agent_works_only_their_queues_boxes_and_the_ivrs(self, client, agent_user, agent_phone, box,
                                                                 voicemail, supervisor_user):
        from apps.agents.models import Agent
        from apps.queues.models import Queue, QueueMember

        sales, support = Queue.objects.create(name="Sales"), Queue.objects.create(name="Support")
        QueueMember.objects.create(queue=sales, agent=Agent.objects.get(user=agent_user))
        theirs = VoicemailBox.objects.create(name="Sales box", queue=sales)
        other = VoicemailBox.objects.create(name="Support box", queue=support)
        box.queue = None  # an IVR's box (no queue): anyone taking calls may return these
        box.save()
        voicemail.box = other
        voicemail.save()

        client.force_login(agent_user)
        assert {b["name"] for b in client.get("/api/voicemail/boxes/").json()} == {"Sales voicemail", "Sales box"}
        assert client.get(messages_url(other)).status_code == 404
        assert client.get(messages_url(theirs)).status_code == 200
        assert client.post(f"/api/voicemail/messages/{voicemail.pk}/handle/").status_code == 404
        assert client.post(f"/api/voicemail/messages/{voicemail.pk}/callback/").status_code == 404
        assert client.get(f"/recordings/{voicemail.recording_id}/audio/").status_code == 403

        client.force_login(supervisor_user)
        assert len(client.get("/api/voicemail/boxes/").json()) == 3
        assert client.get(messages_url(other)).status_code == 200


@pytest.mark.e2e
def test_a_voicemail_is_listed_in_its_box_and_called_back(center, client, agent_user, agent_phone, queues):
    install(two_level(queues), IVR_LINE)
    voicemail_left(center, queues)
    voicemail = Voicemail.objects.select_related("box").get()
    center.wait_for(lambda: Recording.objects.filter(pk=voicemail.recording_id, status="stored").exists(),
                    message="the audio to be copied")

    client.force_login(agent_user)
    boxes = client.get("/api/voicemail/boxes/").json()
    assert [(b["name"], b["new_count"]) for b in boxes] == [("Test IVR voicemail", 1)]
    [listed] = client.get(messages_url(voicemail.box)).json()
    assert listed["from_number"] == CALLER
    audio = client.get(listed["audio_url"])
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/mpeg"

    # Call back: the agent's phone rings first; once they answer, the caller is dialled and joined.
    center.sandbox.set_destinations({AGENT_PHONE: {"answer": "manual"}})
    response = client.post(f"/api/voicemail/messages/{voicemail.pk}/callback/", {"phone": AGENT_PHONE},
                           content_type="application/json")
    assert response.status_code == 202, response.content
    agent_leg = center.sandbox.wait_for_call(lambda c: c["to"] == AGENT_PHONE, direction="outgoing")
    dials_to_caller = [c for c in center.sandbox.commands(action="dial") if c["body"]["to"] == CALLER]
    assert dials_to_caller == []  # nobody rings the caller before the agent answers
    center.sandbox.answer(agent_leg["call_control_id"])
    caller_leg = center.sandbox.wait_for_call(lambda c: c["to"] == CALLER, direction="outgoing")
    [dial] = center.sandbox.commands(action="dial", call_control_id=caller_leg["call_control_id"])
    assert dial["body"]["from"] == IVR_LINE  # the caller sees the number they dialled
    assert dial["body"]["link_to"] == agent_leg["call_control_id"] and dial["body"]["bridge_on_answer"]
    callback = center.wait_for(lambda: VoicemailCallback.objects.filter(status="connected").first(),
                               message="the two legs to be joined")
    assert center.sandbox.call(caller_leg["call_control_id"])["bridged_with"] == agent_leg["call_control_id"]
    assert callback.caller_call.parent == callback.user_call
    assert (callback.user, callback.user_phone) == (agent_user, AGENT_PHONE)

    center.sandbox.hangup(caller_leg["call_control_id"])
    center.wait_for(lambda: VoicemailCallback.objects.filter(pk=callback.pk, status="completed").exists(),
                    message="the call-back to complete")
    center.wait_for(lambda: Call.objects.filter(pk=callback.user_call_id, status="ended").exists())
    # The phone is remembered for the next call-back in this session.
    assert client.session["voicemail_callback_phone"] == AGENT_PHONE


@pytest.mark.e2e
def test_a_call_back_the_caller_does_not_answer_hangs_up_the_agent(center, client, agent_user, agent_phone, box,
                                                                    voicemail):
    center.sandbox.set_destinations({"+15550001111": {"answer": "never"}})
    client.force_login(agent_user)
    assert client.post(f"/api/voicemail/messages/{voicemail.pk}/callback/", {"phone": AGENT_PHONE},
                       content_type="application/json").status_code == 202
    callback = center.wait_for(lambda: VoicemailCallback.objects.filter(status="caller_no_answer").first(),
                               timeout=20, message="the caller's leg to time out")
    center.wait_for(lambda: Call.objects.filter(pk=callback.user_call_id, status="ended").exists(),
                    message="the agent's leg to be hung up")
    again = client.post(f"/api/voicemail/messages/{voicemail.pk}/callback/", {}, content_type="application/json")
    assert again.status_code == 202  # the remembered phone, and the first attempt is over


@pytest.mark.e2e
@pytest.mark.browser
def test_an_agent_marks_a_voicemail_handled_in_the_browser(page, center, agent_user, box, voicemail):
    from tests.browser import login
    from tests.factories import PASSWORD

    login(page, agent_user, PASSWORD)
    page.click("text=Voicemail")
    row = page.locator(f'tr[data-voicemail="{voicemail.pk}"]')
    row.wait_for()
    assert "+15550001111" in row.inner_text()
    assert row.locator("audio").get_attribute("src") == f"/recordings/{voicemail.recording_id}/audio/"
    assert page.locator(f'button[data-box="{box.pk}"] [data-new-count]').inner_text() == "1 new"
    row.locator("button[data-handle]").click()
    row.wait_for(state="detached")  # "New only" hides it once handled
    page.locator(f'button[data-box="{box.pk}"] [data-new-count]', has_text="0 new").wait_for()
    voicemail.refresh_from_db()
    assert (voicemail.status, voicemail.handled_by) == ("handled", agent_user)
