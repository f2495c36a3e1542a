"""The deployment check names what a production center is missing."""

from apps.telnyx.checks import telnyx_settings_check

PRODUCTION = {
    "TELNYX_API_BASE_URL": "https://api.telnyx.com/v2",
    "TELNYX_API_KEY": "KEY_live",
    "TELNYX_PUBLIC_KEY": "GydsOWx0Yr0+3LhBdz1zS0BF1ojmY7jcXG4m5CW0Djk=",
    "TELNYX_CONNECTION_ID": "1234567890",
    "EMBEDDED": False,
    "REDIS_URL": "redis://redis:6379/0",
    "CELERY_TASK_ALWAYS_EAGER": False,
}


def _ids(settings, **overrides) -> list[str]:
    for name, value in {**PRODUCTION, **overrides}.items():
        setattr(settings, name, value)
    return [problem.id for problem in telnyx_settings_check(None)]


def test_a_complete_production_configuration_passes(settings):
    assert _ids(settings) == []


def test_it_warns_that_webhooks_will_be_refused_without_the_public_key(settings):
    assert _ids(settings, TELNYX_PUBLIC_KEY="") == ["telnyx.W001"]


def test_a_public_key_that_is_not_one_is_an_error(settings):
    assert _ids(settings, TELNYX_PUBLIC_KEY="not-a-key") == ["telnyx.E001"]


def test_it_warns_of_a_missing_api_key_and_connection_for_real_telnyx(settings):
    assert _ids(settings, TELNYX_API_KEY="", TELNYX_CONNECTION_ID="") == ["telnyx.W002", "telnyx.W003"]
    assert _ids(settings, TELNYX_API_KEY="", TELNYX_API_BASE_URL="http://127.0.0.1:8765/v2") == []


def test_it_warns_when_no_worker_can_take_the_events(settings):
    assert _ids(settings, REDIS_URL="") == ["telnyx.W004"]
