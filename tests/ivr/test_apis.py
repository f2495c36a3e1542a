"""Admins save whole flows through the API; a flow that could not run is refused, naming the node."""

import copy

import pytest

from apps.ivr.models import IvrFlow, IvrNode, IvrOption
from apps.numbers.models import PhoneNumber
from tests.factories import CallFactory, PhoneNumberFactory
from tests.ivr.flows import install, two_level

pytestmark = pytest.mark.django_db

FLOWS = "/api/ivr/flows/"


@pytest.fixture
def document(queues):
    return two_level(queues)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def post(client, body):
    return client.post(FLOWS, body, content_type="application/json")


def refused(response) -> tuple[str, list[dict]]:
    assert response.status_code == 400, response.content
    body = response.json()
    return body["message"], body["extra"]["errors"]


def test_an_admin_saves_a_two_level_flow_and_reads_it_back_unchanged(admin_client, document):
    response = post(admin_client, document)
    assert response.status_code == 201, response.content
    saved = response.json()
    flow = IvrFlow.objects.get(pk=saved["id"])
    assert (flow.entry_key, flow.version, flow.nodes.count()) == ("main", 1, len(document["nodes"]))
    support = IvrNode.objects.get(flow=flow, key="support")
    assert [(o.digits, o.target_key) for o in support.options.all()] == [("1", "billing"), ("2", "technical")]

    read = admin_client.get(f"{FLOWS}{flow.pk}/").json()
    nodes = {n["key"]: n for n in read["nodes"]}
    assert nodes["main"]["options"][1] == {"digits": "2", "speech": "", "next": "support"}
    assert nodes["main"]["fallback"] == "sorry"
    assert nodes["billing"]["queue"] == document["nodes"][3]["queue"]
    assert nodes["hours"]["hours"]["timezone"] == "America/Chicago"


def test_an_option_pointing_to_a_node_that_does_not_exist_is_refused_naming_the_node(admin_client, document):
    document["nodes"][1]["options"][1]["next"] = "nowhere"
    message, errors = refused(post(admin_client, document))
    assert message == (
        "The flow was not saved. Node 'support' (Support): option 2 (2) points to 'nowhere', "
        "which is not a node of this flow"
    )
    assert errors == [{"node": "support", "node_name": "Support", "field": "options.1.next",
                       "message": "option 2 (2) points to 'nowhere', which is not a node of this flow",
                       "text": message.removeprefix("The flow was not saved. ")}]
    assert not IvrFlow.objects.exists()


def test_an_option_pointing_nowhere_at_all_is_refused(admin_client, document):
    document["nodes"][0]["options"][0]["next"] = ""
    message, errors = refused(post(admin_client, document))
    assert "Node 'main' (Main): option 1 (1) points nowhere" in message
    assert errors[0]["field"] == "options.0.next"


def test_a_menu_without_a_fallback_is_refused_naming_the_menu(admin_client, document):
    document["nodes"][1]["fallback"] = ""
    message, errors = refused(post(admin_client, document))
    assert message == "The flow was not saved. Node 'support' (Support): choose its fallback (what happens after the retries)"
    assert [(e["node"], e["field"]) for e in errors] == [("support", "fallback")]


def test_every_problem_is_reported_at_once(admin_client, document):
    document["nodes"][0]["fallback"] = "gone"
    document["nodes"][1]["options"] = []
    document["nodes"][8]["hours"] = {"timezone": "Mars/Olympus", "weekly": {"mon": [["17:00", "09:00"]]}}
    document["entry"] = "start"
    message, errors = refused(post(admin_client, document))
    assert message.endswith("(and 4 more)")
    assert {(e["node"], e["field"]) for e in errors} == {
        ("", "entry"), ("main", "fallback"), ("support", "options"), ("hours", "hours.timezone"),
        ("hours", "hours.weekly.mon"),
    }


@pytest.mark.parametrize("prompt, problem", [
    ({"type": "tts", "text": "<speak>Press 1<break time='1s'></speak>"}, "not well-formed XML"),
    ({"type": "tts", "text": "<voice>Press 1</voice>"}, "SSML must have a <speak> root"),
    ({"type": "tts", "text": "  "}, "the text is empty"),
    ({"type": "audio", "url": "ftp://example.com/menu.mp3"}, "http(s) URL"),
    ({"type": "tts", "text": "Hi", "language": "xx-XX"}, "not a language Telnyx speaks"),
])
def test_a_prompt_telnyx_could_not_play_is_refused(admin_client, document, prompt, problem):
    document["nodes"][0]["prompt"] = prompt
    message, errors = refused(post(admin_client, document))
    assert message.startswith("The flow was not saved. Node 'main' (Main): ") and problem in message
    assert errors[0]["field"].startswith("prompt.")


@pytest.mark.parametrize("flow, prompt, problem", [
    ({}, {"voice": "Telnyx.KokoroTTS.af", "language": "fr-FR"},
     "Node 'main' (Main): the voice Telnyx.KokoroTTS.af speaks en-US, so the language fr-FR would not be heard"),
    ({"voice": "Polly.Brian"}, {"language": "de-DE"},
     "Node 'main' (Main): the voice Polly.Brian speaks only its own language, so the language de-DE"),
    ({"voice": "Azure.en-GB-SoniaNeural", "language": "fr-FR"}, {},
     "Flow: the voice Azure.en-GB-SoniaNeural speaks en-GB, so the language fr-FR would not be heard"),
], ids=["own-voice", "flow-voice", "flow-itself"])
def test_a_language_the_voice_cannot_speak_is_refused_naming_where(admin_client, document, flow, prompt, problem):
    document.update(flow)
    document["nodes"][0]["prompt"].update(prompt)
    message, _ = refused(post(admin_client, document))
    assert message.startswith(f"The flow was not saved. {problem}")
    assert "choose the female or male voice" in message


@pytest.mark.parametrize("flow, prompt", [
    ({"language": "fr-FR"}, {}),  # no voice chosen: the female voice speaks it
    ({}, {"voice": "female", "language": "de-DE"}),
    ({"voice": "Azure.fr-FR-DeniseNeural", "language": "fr-FR"}, {}),  # the voice speaks that language
    ({"language": "fr-FR"}, {"voice": "Polly.Celine"}),  # a prompt's own voice is not given the flow's language
], ids=["default-voice", "basic-voice", "azure-locale", "own-voice"])
def test_a_language_the_voice_speaks_is_accepted(admin_client, document, flow, prompt):
    document.update(flow)
    document["nodes"][0]["prompt"].update(prompt)
    assert post(admin_client, document).status_code == 201


def test_well_formed_ssml_is_accepted(admin_client, document):
    document["nodes"][0]["prompt"] = {
        "type": "tts", "text": '<speak>For sales, press <say-as interpret-as="digits">1</say-as>.<break time="500ms"/></speak>'}
    assert post(admin_client, document).status_code == 201


def test_a_malformed_field_is_reported_with_its_node(admin_client, document):
    document["nodes"][1]["timeout_secs"] = "soon"
    message, _ = refused(post(admin_client, document))
    assert message == "The flow was not saved. Node 'support' (Support): timeout_secs: A valid integer is required."


def test_a_save_over_a_newer_version_is_refused(admin_client, document):
    flow_id = post(admin_client, document).json()["id"]
    url = f"{FLOWS}{flow_id}/"
    first = admin_client.put(url, {**document, "version": 1}, content_type="application/json")
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = admin_client.put(url, {**document, "description": "mine", "version": 1}, content_type="application/json")
    assert stale.status_code == 400
    assert "changed by someone else" in stale.json()["message"]
    assert IvrFlow.objects.get(pk=flow_id).description == ""


def test_saving_replaces_the_nodes(admin_client, document):
    flow_id = post(admin_client, document).json()["id"]
    smaller = copy.deepcopy(document)
    smaller["nodes"][1]["options"] = smaller["nodes"][1]["options"][:1]
    smaller["nodes"] = [n for n in smaller["nodes"] if n["key"] != "technical"]
    assert admin_client.put(f"{FLOWS}{flow_id}/", smaller, content_type="application/json").status_code == 200
    assert not IvrNode.objects.filter(flow_id=flow_id, key="technical").exists()
    assert IvrOption.objects.filter(node__flow_id=flow_id, node__key="support").count() == 1


def test_an_admin_routes_a_number_to_the_flow_and_back(admin_client, document):
    flow_id = post(admin_client, document).json()["id"]
    number = PhoneNumberFactory(e164="+13125550177")
    response = admin_client.post(f"{FLOWS}{flow_id}/numbers/", {"number": number.pk}, content_type="application/json")
    assert response.status_code == 200
    number.refresh_from_db()
    assert (number.route, number.ivr_id) == (PhoneNumber.Route.IVR, flow_id)
    assert admin_client.get(f"{FLOWS}{flow_id}/").json()["numbers"][0]["e164"] == "+13125550177"

    refused_delete = admin_client.delete(f"{FLOWS}{flow_id}/")
    assert refused_delete.status_code == 400 and "+13125550177" in refused_delete.json()["message"]
    assert admin_client.delete(f"{FLOWS}{flow_id}/numbers/{number.pk}/").status_code == 200
    number.refresh_from_db()
    assert (number.route, number.ivr_id) == (PhoneNumber.Route.GREETING, None)
    assert admin_client.delete(f"{FLOWS}{flow_id}/").status_code == 204


@pytest.mark.parametrize("persona, reads, writes", [
    ("admin_user", 200, 201), ("supervisor_user", 200, 403), ("agent_user", 403, 403), ("outsider", 403, 403),
])
def test_only_admins_change_flows_and_supervisors_may_read_them(client, request, document, persona, reads, writes):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(FLOWS).status_code == reads
    assert post(client, document).status_code == writes
    flow = IvrFlow.objects.first() or install(document, "+13125550178")
    assert client.get(f"{FLOWS}{flow.pk}/").status_code == reads
    put = client.put(f"{FLOWS}{flow.pk}/", document, content_type="application/json").status_code
    assert put == (200 if writes == 201 else 403)
    assert client.get("/api/ivr/choices/").status_code == (200 if writes == 201 else 403)


def test_anonymous_users_get_nothing(client, document):
    assert client.get(FLOWS).status_code == 403
    assert post(client, document).status_code == 403


def test_an_agent_reads_the_ivr_path_of_calls_offered_to_them_and_supervisors_of_any(
        client, agent_user, supervisor_user, outsider, queues):
    from django.utils import timezone

    from apps.agents.models import Agent
    from apps.ivr.models import IvrStep
    from apps.queues.models import Offer, QueueEntry

    flow = install(two_level(queues), "+13125550179")
    theirs, other = CallFactory(), CallFactory()
    for call in (theirs, other):
        IvrStep.objects.create(call=call, flow=flow, step=1, node_key="main", node_kind="menu", node_name="Main",
                               digits="2", speech="my card was stolen", outcome="selected", next_key="support",
                               entered_at=timezone.now())
    entry = QueueEntry.objects.create(call=theirs, queue=queues["Sales"])
    Offer.objects.create(entry=entry, agent=Agent.objects.create(user=agent_user), dial_to="sip:alex@example.com",
                         status=Offer.Status.ENDED)

    def path_of(call):
        return client.get(f"/api/ivr/calls/{call.pk}/path/")

    client.force_login(outsider)
    assert path_of(theirs).status_code == 403
    client.force_login(agent_user)
    assert [(s["node_key"], s["digits"], s["speech"], s["flow"]) for s in path_of(theirs).json()] == [
        ("main", "2", "my card was stolen", "Test IVR")]
    assert path_of(other).status_code == 404  # not offered to them: as if it did not exist
    client.force_login(supervisor_user)
    assert path_of(other).status_code == 200 and path_of(other).json()[0]["speech"] == "my card was stolen"


def test_the_flows_api_is_in_the_openapi_schema(client, admin_user):
    client.force_login(admin_user)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/ivr/flows/", "/api/ivr/flows/{flow_id}/", "/api/ivr/calls/{call_id}/path/",
                 "/api/voicemail/boxes/", "/api/voicemail/messages/{voicemail_id}/callback/"):
        assert path in schema["paths"], path
    node = schema["components"]["schemas"]["Node"]["properties"]
    assert {"options", "fallback", "hours", "queue", "to", "finish_key"} <= set(node)
