"""The Django admin saves a flow, a node or its options only if the flow could still run."""

import json

import pytest

from apps.ivr.models import IvrFlow, IvrNode
from tests.ivr.flows import install, two_level

pytestmark = pytest.mark.django_db

LINE = "+13125550190"


@pytest.fixture
def staff(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    return client


@pytest.fixture
def flow(queues):
    return install(two_level(queues), LINE)


def flow_form(flow, **changes) -> dict:
    """The flow's change form as the admin page posts it, nodes inline; ``changes`` per node key or flow field."""
    data = {"name": flow.name, "description": flow.description, "entry_key": flow.entry_key,
            "fallback_key": flow.fallback_key, "max_steps": flow.max_steps, "voice": flow.voice,
            "language": flow.language}
    nodes = list(flow.nodes.all())
    data.update({"nodes-TOTAL_FORMS": len(nodes), "nodes-INITIAL_FORMS": len(nodes)})
    for i, node in enumerate(nodes):
        fields = {"id": node.pk, "flow": flow.pk, "key": node.key, "kind": node.kind, "name": node.name,
                  "position": node.position, "prompt": json.dumps(node.prompt), "settings": json.dumps(node.settings),
                  "queue": node.queue_id or ""}
        fields.update(changes.pop(node.key, {}))
        data.update({f"nodes-{i}-{name}": value for name, value in fields.items()})
    data.update(changes)
    return data


def node_form(node, options) -> dict:
    data = {"flow": node.flow_id, "key": node.key, "kind": node.kind, "name": node.name, "position": node.position,
            "prompt": json.dumps(node.prompt), "settings": json.dumps(node.settings), "queue": node.queue_id or "",
            "options-TOTAL_FORMS": len(options), "options-INITIAL_FORMS": node.options.count()}
    for i, option in enumerate(options):
        data.update({f"options-{i}-{name}": value for name, value in {"node": node.pk, **option}.items()})
    return data


def page_errors(response) -> str:
    assert response.status_code == 200, "the admin saved it"
    return response.content.decode()


def test_every_ivr_page_of_the_admin_opens(staff, flow):
    node = flow.nodes.get(key="main")
    for url in ("/admin/ivr/ivrflow/", f"/admin/ivr/ivrflow/{flow.pk}/change/", "/admin/ivr/ivrnode/",
                f"/admin/ivr/ivrnode/{node.pk}/change/", "/admin/ivr/ivrstep/"):
        assert staff.get(url).status_code == 200, url


def test_removing_every_option_of_a_menu_is_refused_naming_the_menu(staff, flow):
    main = flow.nodes.get(key="main")
    options = [{"id": o.pk, "digits": o.digits, "speech": o.speech, "target_key": o.target_key,
                "position": o.position, "DELETE": "on"} for o in main.options.all()]
    page = page_errors(staff.post(f"/admin/ivr/ivrnode/{main.pk}/change/", node_form(main, options)))
    assert "Node &#x27;main&#x27; (Main): a menu needs at least one option" in page
    assert main.options.count() == 4


def test_an_option_leading_nowhere_is_refused_and_a_good_one_saved(staff, flow):
    support = flow.nodes.get(key="support")
    options = [{"id": o.pk, "digits": o.digits, "speech": o.speech, "target_key": o.target_key,
                "position": o.position} for o in support.options.all()]
    options[1]["target_key"] = "tech"
    page = page_errors(staff.post(f"/admin/ivr/ivrnode/{support.pk}/change/", node_form(support, options)))
    assert "option 2 (2) points to &#x27;tech&#x27;, which is not a node of this flow" in page

    options[1]["target_key"] = "sales"
    response = staff.post(f"/admin/ivr/ivrnode/{support.pk}/change/", node_form(support, options))
    assert response.status_code == 302
    assert support.options.get(digits="2").target_key == "sales"
    assert IvrFlow.objects.get(pk=flow.pk).version == flow.version + 1  # an editor with the old one must reload


def test_the_flows_page_checks_the_flow_with_its_nodes(staff, flow):
    url = f"/admin/ivr/ivrflow/{flow.pk}/change/"
    missing_entry = page_errors(staff.post(url, flow_form(flow, entry_key="start")))
    assert "Flow: the start node &#x27;start&#x27; is not a node of this flow" in missing_entry
    sorry = flow.nodes.get(key="sorry")
    dangling = page_errors(staff.post(url, flow_form(flow, sorry={"settings": json.dumps({"next": "gone"})})))
    assert "Node &#x27;sorry&#x27; (Sorry): what comes next points to &#x27;gone&#x27;" in dangling
    as_text = page_errors(staff.post(url, flow_form(
        flow, support={"settings": json.dumps({**flow.nodes.get(key="support").settings, "timeout_secs": "soon"})})))
    assert "timeout secs must be a whole number, not &#x27;soon&#x27;" in as_text
    assert IvrFlow.objects.get(pk=flow.pk).entry_key == "main"
    assert IvrNode.objects.get(pk=sorry.pk).settings == {"next": ""}

    saved = staff.post(url, flow_form(flow, entry_key="hours", description="after hours first"))
    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert IvrFlow.objects.get(pk=flow.pk).entry_key == "hours"
