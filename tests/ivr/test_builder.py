"""An admin builds a flow in the browser (Playwright, Debian's chromium)."""

import pytest

from apps.ivr.models import IvrFlow
from tests.browser import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def node(page, index):
    return page.locator(f'section[data-node-index="{index}"]')


def add_node(page, kind, key, name):
    index = page.locator("section[data-node-index]").count()
    page.select_option('select[name="new-node-kind"]', kind)
    page.click("button[data-add-node]")
    card = node(page, index)
    card.locator('input[name="key"]').fill(key)
    card.locator('input[name="name"]').fill(name)
    return card


def test_an_admin_builds_a_two_level_menu_and_saves_it(page, center, admin_user, queues):
    login(page, admin_user, PASSWORD)
    page.goto("/ivr/")
    page.click("a[data-new-flow]")
    page.wait_for_url("**/ivr/new/")
    page.fill('input[name="flow-name"]', "Support line")

    main = add_node(page, "menu", "main", "Main menu")
    main.locator('textarea[name="prompt-text"]').fill("For support, press 1.")
    support = add_node(page, "menu", "support", "Support menu")
    support.locator('textarea[name="prompt-text"]').fill("For billing, press 1. For technical help, press 2.")
    support.locator("button[data-add-option]").click()
    billing = add_node(page, "queue", "billing", "Billing queue")
    billing.locator('select[name="queue"]').select_option(label="Billing")
    technical = add_node(page, "queue", "technical", "Technical queue")
    technical.locator('select[name="queue"]').select_option(label="Technical")
    add_node(page, "hangup", "bye", "Goodbye")

    main.locator('tr[data-option-index="0"] select[name="next"]').select_option("support")
    main.locator('select[name="fallback"]').select_option("bye")
    support.locator('tr[data-option-index="0"] select[name="next"]').select_option("billing")
    support.locator('tr[data-option-index="1"] select[name="next"]').select_option("technical")
    assert page.locator('select[name="flow-entry"]').input_value() == "main"  # the first node, renamed

    # The sub-menu has no fallback yet: the save is refused and the error shows on that node.
    page.click("button[data-save]")
    error = support.locator("[data-node-errors]")
    error.wait_for()
    assert "Node 'support' (Support menu): choose its fallback" in error.inner_text()
    assert main.locator("[data-node-errors]").count() == 0
    assert not IvrFlow.objects.exists()

    support.locator('select[name="fallback"]').select_option("main")
    page.click("button[data-save]")
    page.locator("[data-save-status]", has_text="Saved (version 1)").wait_for()
    page.wait_for_url("**/ivr/*/")

    flow = IvrFlow.objects.get(name="Support line")
    assert page.url.endswith(f"/ivr/{flow.pk}/")
    assert flow.entry_key == "main"
    nodes = {n.key: n for n in flow.nodes.prefetch_related("options")}
    assert {k: n.kind for k, n in nodes.items()} == {
        "main": "menu", "support": "menu", "billing": "queue", "technical": "queue", "bye": "hangup"}
    assert [(o.digits, o.target_key) for o in nodes["main"].options.all()] == [("1", "support")]
    assert [(o.digits, o.target_key) for o in nodes["support"].options.all()] == [("1", "billing"), ("2", "technical")]
    assert (nodes["main"].settings["fallback"], nodes["support"].settings["fallback"]) == ("bye", "main")
    assert nodes["billing"].queue == queues["Billing"]
    assert nodes["support"].prompt["text"] == "For billing, press 1. For technical help, press 2."

    # Reloaded, the builder shows the stored flow.
    page.reload()
    page.locator('section[data-node="support"]').wait_for()
    assert page.locator('input[name="flow-name"]').input_value() == "Support line"
    reloaded = page.locator('section[data-node="support"]')
    assert reloaded.locator('tr[data-option-index="1"] select[name="next"]').input_value() == "technical"
    assert reloaded.locator('select[name="fallback"]').input_value() == "main"


def test_the_flow_pages_are_for_admins_only(client, supervisor_user, agent_user, admin_user):
    for user, expected in ((supervisor_user, 403), (agent_user, 403), (admin_user, 200)):
        client.force_login(user)
        assert client.get("/ivr/").status_code == expected
        assert client.get("/ivr/new/").status_code == expected
    client.logout()
    assert client.get("/ivr/").status_code == 302
