"""Run the sandbox in a background thread of the current process.

Tests and the app's ``runcenter`` command do::

    with SandboxServer(webhook_url="http://127.0.0.1:8000/webhooks/telnyx/", time_scale=0.05) as sandbox:
        settings.TELNYX_API_BASE_URL = sandbox.api_base_url
        settings.TELNYX_PUBLIC_KEY = sandbox.public_key_b64
        ...

The server gets its own event loop in a daemon thread, so it keeps answering
while the caller blocks in synchronous code (Django views, httpx calls).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from aiohttp import web

from .engine import Engine
from .server import build_app
from .signing import Signer
from .spec import load_spec

_START_TIMEOUT_S = 60  # building the spec validator takes a few seconds


class SandboxServer:
    def __init__(
        self,
        webhook_url: str | None,
        host: str = "127.0.0.1",
        port: int = 0,
        private_key_b64: str | None = None,
        time_scale: float = 1.0,
        spec_path: str | os.PathLike | None = None,
        *,
        seed: int = 0,
        validate: bool = True,
    ):
        self.webhook_url = webhook_url
        self.host = host
        self.port = port
        self.time_scale = time_scale
        self.spec_path = spec_path
        self.seed = seed
        self.validate = validate
        self.signer = Signer(private_key_b64)
        self.engine: Engine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # --- public --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        return self.base_url + "/v2"

    @property
    def public_key_b64(self) -> str:
        return self.signer.public_key_b64

    @property
    def private_key_b64(self) -> str:
        return self.signer.private_key_b64

    def start(self) -> SandboxServer:
        """Start serving; returns once the port is listening."""
        if self._thread is not None:
            return self
        # Load (or reuse) the spec here, in the caller's thread: the slow part
        # happens once per process, and a failure surfaces as an exception.
        spec = load_spec(self.spec_path) if self.validate else None
        ready: Future = Future()
        self._thread = threading.Thread(
            target=self._run, args=(spec, ready), name="telnyx-sandbox", daemon=True
        )
        self._thread.start()
        try:
            ready.result(timeout=_START_TIMEOUT_S)
        except BaseException:
            self._thread = None
            raise
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        try:
            future.result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._thread = None

    def call(self, fn: Callable[[Engine], Any], timeout: float = 10) -> Any:
        """Run ``fn(engine)`` on the sandbox's loop and return its result: the
        safe way to look at (or poke) the engine from another thread."""

        async def run():
            result = fn(self.engine)
            return await result if asyncio.iscoroutine(result) else result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- the loop thread ------------------------------------------------------------

    def _run(self, spec, ready: Future) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._startup(spec))
        except BaseException as exc:  # report start failures to start()
            ready.set_exception(exc)
            loop.close()
            return
        ready.set_result(True)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _startup(self, spec) -> None:
        self.engine = Engine(
            webhook_url=self.webhook_url,
            signer=self.signer,
            spec=spec,
            time_scale=self.time_scale,
            seed=self.seed,
        )
        self._runner = web.AppRunner(build_app(self.engine), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # the real port when 0 was asked
        self.engine.base_url = self.base_url
        await self.engine.outbox.start()

    async def _shutdown(self) -> None:
        if self.engine is not None:
            await self.engine.close()
        if self._runner is not None:
            await self._runner.cleanup()
