"""The whole center on real HTTP for end-to-end tests.

``center`` serves the ASGI app (webhooks, pages, websocket) with uvicorn in a
thread and points it at the Telnyx sandbox, which runs in another thread and
delivers signed webhooks to it. Celery tasks run eagerly in the request
thread unless a test starts a worker; the database is real Postgres.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import pytest
import uvicorn

from apps.sandbox.client import SandboxClient
from apps.sandbox.runner import SandboxServer
from apps.telnyx.client import reset_client

# Sandbox time runs 20x faster than real time in tests (ring, speech, gather
# timeouts), so flows that take a minute on a phone take seconds here.
TEST_TIME_SCALE = 0.05


class AsgiServer:
    def __init__(self, app):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the ASGI server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def asgi_server():
    from contactcenter.asgi import application

    server = AsgiServer(application)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sandbox_server(asgi_server):
    server = SandboxServer(webhook_url=f"{asgi_server.url}/webhooks/telnyx/", time_scale=TEST_TIME_SCALE)
    server.start()
    yield server
    server.stop()


@dataclass
class Center:
    url: str
    sandbox: SandboxClient
    server: SandboxServer

    # Poll a predicate (a database query, a sandbox lookup) until it is truthy.
    wait_for = staticmethod(SandboxClient.wait_for)


@pytest.fixture
def center(request, transactional_db, settings, asgi_server, sandbox_server):
    """A running center wired to a freshly reset sandbox."""
    client = SandboxClient(sandbox_server.base_url)
    client.reset()
    client.update_config(webhook_url=f"{asgi_server.url}/webhooks/telnyx/", time_scale=TEST_TIME_SCALE)
    settings.TELNYX_API_BASE_URL = sandbox_server.api_base_url
    settings.TELNYX_PUBLIC_KEY = sandbox_server.public_key_b64
    settings.TELNYX_SANDBOX = True
    settings.TELNYX_SANDBOX_URL = sandbox_server.base_url
    # Other threads must close their connections after each request, or the
    # flush between tests (and dropping the test database) waits on them.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    reset_client()
    center = Center(url=asgi_server.url, sandbox=client, server=sandbox_server)
    yield center
    # Let deliveries in flight land while the test's database is still open;
    # afterwards pytest-django blocks database access in every thread.
    try:
        client.wait_for_idle(timeout=10)
    except TimeoutError:
        pass
    # Every request the center sent in the test must have validated against
    # Telnyx's published spec (and every webhook the sandbox sent, too).
    violations = client.violations()
    client.reset()
    reset_client()
    if "allow_spec_violations" not in request.keywords:
        assert violations == [], f"requests or webhooks that break the Telnyx spec: {violations}"
