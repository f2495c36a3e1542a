import json

import httpx
import pytest

from apps.telnyx.client import TelnyxClient, reset_client
from contactcenter.celery import app as celery_app
from tests.factories import UserFactory
from tests.telnyx_webhooks import KeyPair, encode

pytest_plugins = ["tests.center", "tests.worker", "tests.browser"]


@pytest.fixture(scope="session")
def telnyx_keys() -> KeyPair:
    return KeyPair.generate()


@pytest.fixture(autouse=True)
def _test_settings(settings, telnyx_keys):
    """Every test: its own webhook key; no Telnyx API unless a test starts the sandbox."""
    settings.TELNYX_PUBLIC_KEY = telnyx_keys.public_b64
    settings.TELNYX_API_BASE_URL = "http://127.0.0.1:9/v2"  # nothing listens there
    settings.TELNYX_CONNECTION_ID = "sandbox-connection"
    reset_client()
    yield
    reset_client()


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks run in the test's thread unless a test asks for a real worker."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(scope="session", autouse=True)
def _postgres_required(django_db_blocker):
    with django_db_blocker.unblock():
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.exit("the test suite runs against PostgreSQL: set DATABASE_URL (make test does)")


@pytest.fixture
def webhook(client, telnyx_keys):
    """Deliver a signed webhook body to the app: ``webhook(body) -> response``."""

    def deliver(body: dict, *, timestamp: int | None = None, keys: KeyPair | None = None, raw: bytes | None = None):
        data = raw if raw is not None else encode(body)
        headers = (keys or telnyx_keys).headers(data, timestamp)
        return client.post("/webhooks/telnyx/", data=data, content_type="application/json", **headers)

    return deliver


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada", roles=["admin"])


@pytest.fixture
def supervisor_user(db):
    return UserFactory(username="sam", roles=["supervisor"])


@pytest.fixture
def agent_user(db):
    return UserFactory(username="alex", roles=["agent"])


@pytest.fixture
def outsider(db):
    return UserFactory(username="olivia")


class TelnyxApiRecorder:
    """Stands in for the Telnyx HTTP API (the edge we do not own) in unit tests.

    Every request is recorded; answers are 200 ``{"data": {"result": "ok"}}``
    unless a test queues others with :meth:`respond`. End-to-end tests use the
    sandbox instead (the ``center`` fixture).
    """

    def __init__(self):
        self.requests: list[dict] = []
        self._responses: list[httpx.Response] = []

    def respond(self, status: int, body: dict | None = None) -> None:
        self._responses.append(httpx.Response(status, json=body or {}))

    def respond_text(self, status: int, text: str) -> None:
        """Answer the next request with plain text (e.g. a WebRTC login token)."""
        self._responses.append(httpx.Response(status, text=text))

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        self.requests.append({"method": request.method, "path": request.url.path, "body": body})
        if self._responses:
            return self._responses.pop(0)
        return httpx.Response(200, json={"data": {"result": "ok"}})

    def actions(self) -> list[str]:
        return [r["path"].rsplit("/", 1)[-1] for r in self.requests]


@pytest.fixture(autouse=True)
def telnyx_api(request, monkeypatch):
    if "center" in request.fixturenames:
        yield None  # the sandbox answers
        return
    recorder = TelnyxApiRecorder()
    client = TelnyxClient(base_url="https://api.telnyx.test/v2", api_key="KEY_test",
                          transport=httpx.MockTransport(recorder.handler))
    monkeypatch.setattr("apps.telnyx.tasks.get_client", lambda: client)
    yield recorder
    client.close()
