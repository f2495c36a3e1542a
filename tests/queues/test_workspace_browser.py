"""The agent workspace in a real browser: a call arrives, is answered, hung up and wrapped up without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.agents.models import Agent
from apps.queues.models import Disposition, Offer
from tests.browser import login
from tests.factories import PASSWORD
from tests.queues.conftest import QUEUE_LINE, agent_status, available, make_agent, make_queue, offer_of, sip

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CALLER = "+15558675309"
CALL_MS = 15_000  # what waits on the telephony (webhooks, the agent's leg) gets as long as offer_of


def one_conference_of(center, *ccids: str) -> bool:
    """Exactly these legs, together in one conference of the sandbox."""
    return any({p["call_control_id"] for p in conference["participants"]} == set(ccids)
               for conference in center.sandbox.conferences())


def test_an_agent_takes_a_queued_call_from_the_workspace_and_wraps_it_up(page, center):
    Disposition.objects.create(name="Support solved")
    sale = Disposition.objects.create(name="Sale")
    agent = make_agent("wendy")
    make_queue("Sales", agents=[(1, agent)], ring_timeout_secs=120, wrap_up_secs=600)
    center.sandbox.set_destinations({sip("wendy"): {"answer": "manual"}})  # only Accept answers her phone
    # Her phone rings as long as a real one: at the tests' 20x sandbox time it would ring out in
    # seconds, and the test would race the ring timeout instead of waiting for what the page shows.
    center.sandbox.update_config(time_scale=1.0)

    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, agent.user, PASSWORD)
    assert page.url.endswith("/agent/")
    status = page.locator("[data-agent-status]")
    expect(status).to_have_text("Offline")
    expect(page.locator("[data-live-status]")).to_have_class(re.compile(r"\bonline\b"))  # the snapshot came in
    page.click('[data-set-status="available"]')
    expect(status).to_have_text("Available")
    agent_status(center, agent, Agent.Status.AVAILABLE)

    # The caller rings the queue line; their card appears on the open page.
    ccid = center.sandbox.place_call(from_=CALLER, to=QUEUE_LINE)["call_control_id"]
    card = page.locator("[data-call-card]")
    expect(card).to_be_visible(timeout=CALL_MS)
    expect(card.locator("[data-caller-number]")).to_have_text(CALLER)
    expect(page.locator("[data-offer-status]")).to_have_attribute("data-offer-status", "ringing")
    offer = offer_of(center, ccid, status=Offer.Status.RINGING, agent_call_control_id__gt="")

    page.click("[data-accept]")
    expect(page.locator("[data-in-call]")).to_be_visible(timeout=CALL_MS)
    expect(status).to_have_text("On a call")
    center.wait_for(lambda: one_conference_of(center, ccid, offer.agent_call_control_id), timeout=15,
                    message="the caller and the agent in one conference")

    page.click("[data-hangup]")
    wrap_up = page.locator("[data-wrap-up]")
    expect(wrap_up).to_be_visible(timeout=CALL_MS)
    expect(status).to_have_text("Wrap-up")
    center.sandbox.wait_for_event(ccid, "call.hangup")  # the caller is released with the agent
    wrap_up.locator('select[name="disposition"]').select_option(label="Sale")
    wrap_up.locator('textarea[name="notes"]').fill("Ordered two licences.")
    wrap_up.locator('button[type="submit"]').click()

    expect(status).to_have_text("Available")
    expect(wrap_up).to_have_count(0)
    expect(page.locator("[data-no-call]")).to_be_visible()
    expect(page.locator("[data-error]")).to_have_count(0)  # no action was refused on the way
    assert errors == []
    agent_status(center, agent, Agent.Status.AVAILABLE)
    wrapped = Offer.objects.get(pk=offer.pk)
    assert (wrapped.status, wrapped.disposition, wrapped.notes) == (Offer.Status.ENDED, sale, "Ordered two licences.")
    assert wrapped.wrapped_at is not None


def test_the_transfer_list_shows_who_is_free_and_follows_colleagues_live(page, center):
    agent, colleague = make_agent("wendy"), make_agent("xavier")  # xavier serves no queue of hers
    make_queue("Sales", agents=[(1, agent)], wrap_up_secs=0)
    center.sandbox.set_destinations({sip("wendy"): {"answer": "auto", "ring_ms": 200}})
    available(agent)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, agent.user, PASSWORD)
    expect(page.locator("[data-live-status]")).to_have_class(re.compile(r"\bonline\b"))
    ccid = center.sandbox.place_call(from_=CALLER, to=QUEUE_LINE)["call_control_id"]
    expect(page.locator("[data-in-call]")).to_be_visible(timeout=CALL_MS)

    form = page.locator("[data-transfer-form]")
    form.locator('select[name="target"]').select_option("agent")
    choice = form.locator(f'select[name="agent"] option[value="{colleague.pk}"]')
    expect(choice).to_have_text("Xavier · Offline")
    form.locator('select[name="agent"]').select_option(str(colleague.pk))
    expect(page.locator("[data-colleague-hint]")).to_have_text(
        "Xavier is offline: the caller will wait in the queue for the next agent.")

    available(colleague)  # on his own page, say: hers follows without a reload
    expect(choice).to_have_text("Xavier · Available")
    expect(page.locator("[data-colleague-hint]")).to_have_count(0)
    assert errors == []
    center.sandbox.hangup(ccid)
