"""Fixtures for the sandbox's own tests: no Django, no database.

``receiver`` is a small real aiohttp server standing in for the app: it
records every webhook, verifies its Ed25519 signature with the sandbox's
public key and answers whatever status a test asks for. One sandbox serves
the whole session (building the spec validator takes seconds); each test
starts from a reset world.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from apps.sandbox.client import SandboxClient
from apps.sandbox.runner import SandboxServer

TIME_SCALE = 0.05  # 20x faster than real time: a 1 s ring takes 50 ms


class Receiver:
    """The "app": records deliveries, checks signatures, answers as told."""

    def __init__(self):
        self.deliveries: list[dict] = []
        self.public_key: Ed25519PublicKey | None = None
        self.respond: Callable[[dict], int] = lambda delivery: 200
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/telnyx/"

    def start(self) -> None:
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/webhooks/telnyx/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        ready.set()
        self._loop.run_forever()

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body = json.loads(raw)
        delivery = {
            "id": body["data"]["id"],
            "event_type": body["data"]["event_type"],
            "payload": body["data"]["payload"],
            "attempt": body["meta"]["attempt"],
            "delivered_to": body["meta"]["delivered_to"],
            "headers": dict(request.headers),
            "verified": self._verify(raw, request.headers),
            "received_at": time.monotonic(),
        }
        with self._lock:
            self.deliveries.append(delivery)
        return web.Response(status=self.respond(delivery))

    def _verify(self, raw: bytes, headers) -> bool:
        signature = headers.get("telnyx-signature-ed25519")
        timestamp = headers.get("telnyx-timestamp")
        if not (signature and timestamp and self.public_key):
            return False
        try:
            self.public_key.verify(base64.b64decode(signature), timestamp.encode() + b"|" + raw)
        except InvalidSignature:
            return False
        return abs(time.time() - int(timestamp)) < 300

    def reset(self) -> None:
        with self._lock:
            self.deliveries.clear()
        self.respond = lambda delivery: 200

    def received(
        self, event_type: str | None = None, call_control_id: str | None = None
    ) -> list[dict]:
        with self._lock:
            rows = list(self.deliveries)
        return [
            d
            for d in rows
            if (event_type is None or d["event_type"] == event_type)
            and (call_control_id is None or d["payload"].get("call_control_id") == call_control_id)
        ]

    def wait_for(
        self,
        event_type: str,
        call_control_id: str | None = None,
        count: int = 1,
        timeout: float = 5,
    ) -> list[dict]:
        return SandboxClient.wait_for(
            lambda: (
                (rows := self.received(event_type, call_control_id)) and len(rows) >= count and rows
            ),
            timeout,
            message=f"receiver did not get {count} x {event_type}",
        )


@pytest.fixture(scope="session")
def receiver():
    app = Receiver()
    app.start()
    return app


@pytest.fixture(scope="session")
def telnyx_sandbox(receiver):
    server = SandboxServer(webhook_url=receiver.url, time_scale=TIME_SCALE)
    server.start()
    receiver.public_key = Ed25519PublicKey.from_public_bytes(
        base64.b64decode(server.public_key_b64)
    )
    yield server
    server.stop()


@pytest.fixture
def control(telnyx_sandbox, receiver):
    """The control API, on a freshly reset world; afterwards, the spec must
    not have been broken by anything the sandbox sent."""
    with SandboxClient(telnyx_sandbox.base_url) as client:
        client.reset()
        client.update_config(webhook_url=receiver.url, time_scale=TIME_SCALE)
        receiver.reset()
        yield client
        client.wait_for_idle(timeout=10)
        broken = [v for v in client.violations() if v["kind"] != "request"]
        assert broken == [], broken


@pytest.fixture
def api(telnyx_sandbox):
    """The emulated Telnyx API, as the app's HTTP client sees it."""
    with httpx.Client(
        base_url=telnyx_sandbox.api_base_url,
        headers={"Authorization": "Bearer KEY_test"},
        timeout=10,
    ) as client:
        yield client


@pytest.fixture
def inbound_call(control, api):
    """Place an inbound call and answer it: ``inbound_call(**place_call_kwargs) -> ccid``."""

    def make(
        from_: str = "+13125550111", to: str = "+13125550100", answer: bool = True, **kwargs
    ) -> str:
        call_control_id = control.place_call(from_, to, **kwargs)["call_control_id"]
        if answer:
            assert api.post(f"/calls/{call_control_id}/actions/answer", json={}).status_code == 200
        return call_control_id

    return make


def event_types(control: SandboxClient, call_control_id: str) -> list[str]:
    return [e["event_type"] for e in control.events(call_control_id=call_control_id)]


def wait_event(
    control: SandboxClient, call_control_id: str, event_type: str, timeout: float = 5
) -> dict:
    return control.wait_for_event(call_control_id, event_type, timeout=timeout)
