"""Webhook delivery, with Telnyx's retry rules and the sandbox's faults.

By default each call's webhooks go out one after another, in the order they
were emitted, while different calls are delivered concurrently: that keeps
the app's happy path deterministic without serialising a busy center behind
one slow request. The ``reorder_window_ms`` fault drops the per-call order on
purpose, because Telnyx does not guarantee it either.

A delivery is retried, with the same event id and ``meta.attempt`` + 1, on
5xx, 408, 429 and connection errors (Telnyx's webhook page); any other 4xx is
final. The backoff doubles from ``webhook_retry_base_ms`` and is multiplied
by ``time_scale``: a test running the world 20x faster also wants its retries
20x sooner, and the order of a retry relative to the call's other simulated
events then stays the same at every scale.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from .engine import Engine

logger = logging.getLogger(__name__)

_RETRY_STATUSES = frozenset({408, 429})
_MAX_BACKOFF_MS = 30_000
_LOG_SIZE = 100_000


@dataclass
class Delivery:
    data: dict
    url: str | None
    key: str


class Outbox:
    """Queues, signs, sends and retries webhooks; logs every attempt."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.log: deque[dict] = deque(maxlen=_LOG_SIZE)
        self._pending: set[int] = set()  # ids of deliveries not yet finished
        self._session: aiohttp.ClientSession | None = None
        self._queues: dict[str, deque[Delivery]] = {}
        self._workers: dict[str, asyncio.Task] = {}
        self._loose: set[asyncio.Task] = set()

    async def start(self) -> None:
        # One session for every delivery: a fresh connection per webhook would
        # cap us far below the 300 webhooks/s the app's benchmark pushes.
        connector = aiohttp.TCPConnector(limit=1000, limit_per_host=0, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(connector=connector)

    async def close(self) -> None:
        self.reset()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def reset(self) -> None:
        for task in [*self._workers.values(), *self._loose]:
            task.cancel()
        self._workers.clear()
        self._queues.clear()
        self._loose.clear()
        self.log.clear()
        self._pending.clear()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def submit(self, data: dict, url: str | None, key: str) -> None:
        item = Delivery(data=data, url=url, key=key)
        self._pending.add(id(item))
        if self.engine.config.faults.reorder_window_ms > 0:
            task = asyncio.get_running_loop().create_task(self._deliver(item, reorder=True))
            self._loose.add(task)
            task.add_done_callback(self._loose.discard)
            return
        queue = self._queues.setdefault(key, deque())
        queue.append(item)
        if key not in self._workers:
            self._workers[key] = asyncio.get_running_loop().create_task(self._drain(key))

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                await self._deliver(queue.popleft())
        finally:
            # No await between the emptiness check and this cleanup, so a
            # submit() for this key either saw the worker alive or starts anew.
            if self._workers.get(key) is asyncio.current_task():
                del self._workers[key]
                self._queues.pop(key, None)

    async def _deliver(self, item: Delivery, reorder: bool = False) -> None:
        faults = self.engine.config.faults
        rng = self.engine.rng
        try:
            hold_ms = faults.webhook_delay_ms + (
                rng.uniform(0, faults.reorder_window_ms) if reorder else 0
            )
            if hold_ms > 0:
                await asyncio.sleep(hold_ms / 1000)
            await self._attempts(item, duplicate=False)
            if faults.duplicate_rate > 0 and rng.random() < faults.duplicate_rate:
                # Same body, same id: what a receiver sees when Telnyx
                # believes the first delivery was lost.
                await self._attempts(item, duplicate=True)
        finally:
            # discard, not decrement: a reset may already have forgotten it
            self._pending.discard(id(item))

    async def _attempts(self, item: Delivery, duplicate: bool) -> None:
        config = self.engine.config
        attempt = 1
        while True:
            status, error, latency_ms = await self._post(item, attempt)
            self._record(item, attempt, status, error, latency_ms, duplicate)
            retryable = status is None or status >= 500 or status in _RETRY_STATUSES
            if item.url is None or not retryable or attempt >= config.webhook_max_attempts:
                return
            backoff_ms = min(config.webhook_retry_base_ms * 2 ** (attempt - 1), _MAX_BACKOFF_MS)
            await asyncio.sleep(max(backoff_ms * config.time_scale, 10) / 1000)
            attempt += 1

    async def _post(self, item: Delivery, attempt: int) -> tuple[int | None, str | None, float]:
        if item.url is None:
            return None, "no webhook_url configured", 0.0
        if self._session is None:
            await self.start()
        body = json.dumps(
            {"data": item.data, "meta": {"attempt": attempt, "delivered_to": item.url}},
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "telnyx-webhooks",
            # Signed per attempt: the body changes (meta.attempt) and the
            # receiver checks the timestamp's age.
            **self.engine.signer.headers(body),
        }
        timeout = aiohttp.ClientTimeout(total=self.engine.config.webhook_timeout_ms / 1000)
        started = time.monotonic()
        try:
            async with self._session.post(
                item.url, data=body, headers=headers, timeout=timeout, max_redirects=3
            ) as response:
                await response.read()
                return response.status, None, (time.monotonic() - started) * 1000
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return None, f"{type(exc).__name__}: {exc}", (time.monotonic() - started) * 1000

    def _record(self, item, attempt, status, error, latency_ms, duplicate) -> None:
        self.log.append(
            {
                "event_id": item.data["id"],
                "event_type": item.data["event_type"],
                "call_control_id": item.data["payload"].get("call_control_id"),
                "conference_id": item.data["payload"].get("conference_id"),
                "attempt": attempt,
                "status": status,
                "error": error,
                "latency_ms": round(latency_ms, 2),
                "url": item.url,
                "duplicate": duplicate,
                "at": time.time(),
            }
        )
