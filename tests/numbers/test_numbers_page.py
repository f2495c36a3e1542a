"""An admin buys a number from the browser and watches the order complete, without reloading."""

import pytest

from apps.numbers.models import NumberJob, PhoneNumber
from tests.browser import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_an_admin_searches_orders_and_sees_the_order_complete_live(page, center, admin_user):
    # Telnyx takes a while to complete this order (1.5 s of wall clock), so the
    # page has progress to show before it is done.
    center.sandbox.update_config(number_order_delay_ms=30000)
    login(page, admin_user, PASSWORD)
    page.goto("/numbers/")
    page.wait_for_selector("[data-live-status].online")
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

    page.fill('input[name="national_destination_code"]', "415")
    page.check('input[name="features"][value="sms"]')
    page.click('[data-search-form] button[type="submit"]')
    first = page.locator("[data-search-results] tr[data-available]").first
    first.wait_for()
    wanted = first.get_attribute("data-available")
    assert wanted.startswith("+1415")
    assert "sms" in first.inner_text()

    page.fill('input[name="order_label"]', "West coast ads")
    page.fill('input[name="order_source"]', "Bing")
    first.locator("button[data-order]").click()

    job_row = page.locator('[data-jobs] tr[data-kind="order"]').first
    running = page.locator('[data-jobs] tr[data-kind="order"][data-status="running"]')
    running.locator('[data-step]:has-text("Waiting for Telnyx to complete the order")').wait_for()
    assert page.locator(f'tr[data-available="{wanted}"] button:has-text("Ordering")').is_disabled()
    page.locator('[data-jobs] tr[data-kind="order"][data-status="done"]').wait_for(timeout=15000)
    assert "Done" in job_row.inner_text()
    page.locator(f'[data-numbers] tr[data-number="{wanted}"]').wait_for()
    assert "Bing" in page.locator(f'[data-numbers] tr[data-number="{wanted}"]').inner_text()
    page.locator(f'tr[data-available="{wanted}"] [data-bought]').wait_for()
    assert page.evaluate("window.__sameDocument") is True

    number = PhoneNumber.objects.get(e164=wanted)
    assert (number.label, number.tracking_source, number.connection_id) == ("West coast ads", "Bing", "sandbox-connection")
    assert number.telnyx_id in {n["id"] for n in center.sandbox.owned_numbers()}
    steps_seen = NumberJob.objects.get(phone_number=wanted).version
    assert steps_seen >= 4  # placed, waiting, assigning, done: each one pushed to the page


def test_an_admin_retries_a_failed_job_from_the_page(page, center, admin_user):
    center.sandbox.set_owned_numbers(["+13125550139"])
    job = NumberJob.objects.create(kind="import", status="failed", step="Failed", created_by=admin_user,
                                   error="Telnyx did not answer: timed out")
    login(page, admin_user, PASSWORD)
    page.goto("/numbers/")
    page.wait_for_selector("[data-live-status].online")
    row = page.locator(f'[data-jobs] tr[data-job-id="{job.pk}"]')
    assert "timed out" in row.inner_text()

    row.locator("button[data-retry]").click()

    page.locator(f'[data-jobs] tr[data-job-id="{job.pk}"][data-status="done"]').wait_for(timeout=15000)
    assert row.locator("button[data-retry]").count() == 0 and "timed out" not in row.inner_text()
    page.locator('[data-numbers] tr[data-number="+13125550139"]').wait_for()
