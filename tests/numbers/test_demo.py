"""The demo: tracking numbers, numbers to import, and history for the analytics page."""

import pytest

from apps.calls.models import Call
from apps.numbers import demo
from apps.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_tracking_numbers_and_history_once(supervisor_user):
    demo.seed()
    calls = Call.objects.count()
    demo.seed()  # runcenter seeds on every start

    assert Call.objects.count() == calls > 0
    ads = PhoneNumber.objects.get(e164="+13125550110")
    assert (ads.route, ads.tracking_source, ads.forward_to) == ("forward", "Google Ads", "+13125550190")
    assert set(demo.sandbox_numbers()) >= {demo.MAIN_LINE, "+13125550110", *demo.IMPORTABLE}
    assert {c["to"] for c in demo.simulated_calls()} >= {"+13125550110", "+13125550111"}
    outcomes = set(Call.objects.values_list("caller_outcome", flat=True))
    assert {"answered", "no_answer", "busy", "abandoned"} <= outcomes
    assert Call.objects.filter(first_time_caller=True).exists() and Call.objects.filter(first_time_caller=False).exists()
