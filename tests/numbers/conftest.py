import httpx
import pytest
from django.test import Client

from apps.telnyx.client import TelnyxClient


class NumbersEdge:
    """The Telnyx HTTP edge of the numbers app in unit tests: the ``telnyx_api``
    recorder (scripted answers, recorded requests) plus scripted transport
    failures such as a POST whose answer never comes back."""

    def __init__(self, recorder):
        self.recorder = recorder
        self.queries: list[tuple[str, str, dict]] = []
        self._failures: list[tuple[str, str, Exception]] = []

    def fail_next(self, method: str, path: str, exc: Exception) -> None:
        self._failures.append((method, path, exc))

    def respond(self, status: int, body: dict | None = None) -> None:
        self.recorder.respond(status, body)

    @property
    def requests(self) -> list[dict]:
        return self.recorder.requests

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.queries.append((request.method, request.url.path, dict(request.url.params)))
        for index, (method, path, exc) in enumerate(self._failures):
            if request.method == method and request.url.path == path:
                del self._failures[index]
                self.recorder.requests.append({"method": method, "path": path, "body": None, "failed": True})
                raise exc
        return self.recorder.handler(request)


@pytest.fixture
def numbers_edge(telnyx_api, monkeypatch):
    edge = NumbersEdge(telnyx_api)
    client = TelnyxClient(base_url="https://api.telnyx.test/v2", api_key="KEY_test",
                          transport=httpx.MockTransport(edge.handler))
    monkeypatch.setattr("apps.numbers.numbers_api.get_client", lambda: client)
    yield edge
    client.close()


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client
