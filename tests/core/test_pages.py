"""The pages a user sees, in a real browser."""

import pytest

from apps.calls.models import Call
from tests.browser import login
from tests.factories import PASSWORD, PhoneNumberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_a_supervisor_sees_a_call_appear_on_the_live_board_without_reloading(page, center, supervisor_user):
    PhoneNumberFactory(e164="+13125550100", greeting="Please hold. " * 100)
    login(page, supervisor_user, PASSWORD)
    assert page.url.endswith("/supervisor/")
    page.wait_for_selector("[data-live-status].online")

    ccid = center.sandbox.place_call(from_="+15557654321", to="+13125550100")["call_control_id"]
    call = center.wait_for(lambda: Call.objects.filter(call_control_id=ccid).first())
    row = page.locator(f'tr[data-call-id="{call.pk}"]')
    row.wait_for()
    assert "+15557654321" in row.inner_text()
    page.locator(f'tr[data-call-id="{call.pk}"][data-status="answered"]').wait_for()
    center.sandbox.hangup(ccid)
    page.locator(f'tr[data-call-id="{call.pk}"][data-status="ended"]').wait_for()
