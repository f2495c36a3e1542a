"""The sandbox's state and the machinery shared by its parts.

Everything here runs on the sandbox's own asyncio loop, one callback at a
time, so the world needs no locks: an HTTP handler and a timer never see
each other's half-done changes.

``Engine`` owns the world (calls, conferences, queues, recordings, numbers),
the logs tests read, the webhook outbox and the API front door
(:meth:`Engine.api`): faults, ``command_id`` de-duplication, then the
handler. The behaviour itself lives in ``calls``, ``conferences`` and
``numbers``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .outbox import Outbox
from .signing import Signer
from .spec import DOCUMENTED_EXTRAS, Spec
from .state import Config, Faults, Leg, iso, new_uuid, utcnow

logger = logging.getLogger(__name__)

# Telnyx ignores a repeated command_id for the same call for 60 s. This is a
# real-time window on purpose: it protects against the app's retries, which
# happen in real time whatever the simulation speed.
DEDUPE_WINDOW_S = 60.0
# Fields every call event may carry; each event keeps those its spec schema
# declares (see Engine.emit).
COMMON_FIELDS = (
    "call_control_id",
    "call_leg_id",
    "call_session_id",
    "connection_id",
    "client_state",
    "from",
    "to",
)
_UNSET = object()
_LOG_SIZE = 100_000


@dataclass
class ApiRequest:
    """One checked request to the emulated Telnyx API."""

    name: str
    method: str
    path: str
    path_params: dict = field(default_factory=dict)
    query: list = field(default_factory=list)
    deep: dict = field(default_factory=dict)
    body: Any = None

    def query_values(self, name: str) -> list[str]:
        return [value for key, value in self.query if key == name]


Handler = Callable[[ApiRequest], Awaitable[tuple[int, dict]]]


class Engine:
    def __init__(
        self,
        *,
        webhook_url: str | None,
        signer: Signer | None = None,
        spec: Spec | None = None,
        time_scale: float = 1.0,
        seed: int = 0,
    ):
        from .calls import Calls
        from .conferences import Conferences
        from .numbers import Numbers

        self.signer = signer or Signer()
        self.spec = spec
        self.config = Config(webhook_url=webhook_url, time_scale=time_scale, seed=seed)
        self.base_url = ""  # set once the server listens; media URLs need it
        self.outbox = Outbox(self)
        self.calls = Calls(self)
        self.conferences = Conferences(self)
        self.numbers = Numbers(self)
        self._tasks: set[asyncio.Task] = set()
        self.handlers: dict[str, Handler] = {
            **self.calls.handlers(),
            **self.conferences.handlers(),
            **self.numbers.handlers(),
        }
        self._clear()

    # --- lifecycle ------------------------------------------------------------

    def _clear(self) -> None:
        self.rng = random.Random(self.config.seed)
        self.legs: dict[str, Leg] = {}
        self.command_log: deque[dict] = deque(maxlen=_LOG_SIZE)
        self.events: deque[dict] = deque(maxlen=_LOG_SIZE)
        self.violations: list[dict] = []
        self.dedupe: dict[tuple[str, str], tuple[float, int, dict]] = {}
        self.fault_attempts: Counter[str] = Counter()
        self.destinations: dict[str, dict] = {}
        self.amd: dict[str, dict] = {}
        self.calls.clear()
        self.conferences.clear()
        self.numbers.clear()

    async def reset(self) -> None:
        """Forget the world. Faults and the seed go back to their defaults;
        where webhooks go and how fast time runs are kept, since those belong
        to the process running the sandbox, not to one test."""
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        self._tasks.clear()
        self.outbox.reset()
        self.config.faults = Faults()
        self.config.seed = 0
        self._clear()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.outbox.close()

    def set_seed(self, seed: int) -> None:
        self.config.seed = seed
        self.rng = random.Random(seed)

    # --- time and tasks -----------------------------------------------------------

    def sim_seconds(self, ms: float) -> float:
        """Real seconds for a simulated duration in ms."""
        return max(0.0, ms) * self.config.time_scale / 1000

    async def sleep(self, ms: float) -> None:
        await asyncio.sleep(self.sim_seconds(ms))

    def spawn(self, coro: Awaitable, owner: Any = None) -> asyncio.Task:
        """Run ``coro`` in the background; ``owner`` (a Leg) cancels it on hang-up."""
        task = asyncio.get_running_loop().create_task(self._guard(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if owner is not None:
            owner.tasks.add(task)
            task.add_done_callback(owner.tasks.discard)
        return task

    async def _guard(self, coro: Awaitable) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in the sandbox must be visible, not silent
            logger.exception("sandbox task failed")
            self.violation("internal", f"{type(exc).__name__}: {exc}")

    @staticmethod
    def cancel(task: asyncio.Task | None) -> None:
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    # --- logs -----------------------------------------------------------------

    def violation(self, kind: str, reason: str, **context: Any) -> None:
        self.violations.append({"kind": kind, "reason": reason, "at": time.time(), **context})

    # --- webhooks -------------------------------------------------------------

    def emit(
        self, event_type: str, payload: dict, *, leg: Leg | None = None, url: str | None = None
    ) -> dict:
        """Create one event now and hand it to the outbox."""
        declared = self.spec.payload_fields(event_type) if self.spec else None
        if declared is not None:
            # Send the common fields the spec declares for this event, plus
            # the ones Telnyx's guides show; the rest of the payload is what
            # the caller asked for and is checked strictly.
            allowed = declared | DOCUMENTED_EXTRAS.get(event_type, frozenset())
            payload = {k: v for k, v in payload.items() if k not in COMMON_FIELDS or k in allowed}
        payload = {k: v for k, v in payload.items() if v is not None}
        data = {
            "record_type": "event",
            "event_type": event_type,
            "id": new_uuid(),
            "occurred_at": iso(utcnow()),
            "payload": payload,
        }
        if self.spec is not None and self.config.validate_webhooks:
            problems = self.spec.validate_webhook(data)
            if problems:
                self.violation(
                    "webhook",
                    "; ".join(problems),
                    event_type=event_type,
                    event_id=data["id"],
                    call_control_id=payload.get("call_control_id"),
                )
        summary = {
            "id": data["id"],
            "event_type": event_type,
            "occurred_at": data["occurred_at"],
            "call_control_id": payload.get("call_control_id"),
            "payload": payload,
        }
        self.events.append(summary)
        if leg is not None:
            leg.webhooks.append(summary)
        target = url or (leg.webhook_url if leg is not None else None) or self.config.webhook_url
        key = payload.get("call_control_id") or payload.get("conference_id") or "global"
        self.outbox.submit(data, target, key)
        return data

    def emit_leg(
        self, leg: Leg, event_type: str, extra: dict | None = None, client_state: Any = _UNSET
    ) -> dict:
        """Emit a call event with the leg's ids and its current client_state
        (or the one the causing command captured)."""
        payload = {
            "call_control_id": leg.call_control_id,
            "call_leg_id": leg.call_leg_id,
            "call_session_id": leg.call_session_id,
            "connection_id": leg.connection_id,
            "client_state": leg.client_state if client_state is _UNSET else client_state,
            "from": leg.from_,
            "to": leg.to,
            **(extra or {}),
        }
        return self.emit(event_type, payload, leg=leg)

    # --- API front door ---------------------------------------------------------

    async def api(self, request: ApiRequest) -> tuple[int, dict, bool]:
        """Answer one API request: (status, body, deduped)."""
        handler = self.handlers.get(request.name)
        if handler is None:
            raise errors.not_found()
        body = request.body if isinstance(request.body, dict) else {}
        command_id = body.get("command_id") if isinstance(body.get("command_id"), str) else None
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and _is_command(request.name):
            self._inject_5xx(command_id)
            self._inject_refusal(request.name)
        key = (_resource_of(request), command_id) if command_id else None
        if key is not None:
            cached = self.dedupe.get(key)
            if cached and cached[0] > time.monotonic():
                return cached[1], cached[2], True
        status, answer = await handler(request)
        if key is not None and 200 <= status < 300:
            self.dedupe[key] = (time.monotonic() + DEDUPE_WINDOW_S, status, answer)
        return status, answer, False

    def _inject_5xx(self, command_id: str | None) -> None:
        faults = self.config.faults
        if command_id and faults.command_5xx_first_attempts > 0:
            self.fault_attempts[command_id] += 1
            if self.fault_attempts[command_id] <= faults.command_5xx_first_attempts:
                raise errors.internal_error()
        if faults.command_5xx_rate > 0 and self.rng.random() < faults.command_5xx_rate:
            raise errors.internal_error()

    def _inject_refusal(self, name: str) -> None:
        refused = {a.strip() for a in (self.config.faults.command_422_actions or "").split(",") if a.strip()}
        if refused and (name in refused or name.removeprefix("call.") in refused):
            raise errors.unable(f"The sandbox refuses {name} (the command_422_actions fault).")

    def log_command(self, entry: dict) -> None:
        self.command_log.append(entry)
        leg = self.legs.get(entry.get("call_control_id") or "")
        if leg is not None:
            leg.commands.append(entry)


def _is_command(name: str) -> bool:
    return (
        name == "dial" or name.startswith(("call.", "conference.")) or name == "conference_create"
    )


def _resource_of(request: ApiRequest) -> str:
    params = request.path_params
    return params.get("call_control_id") or params.get("id") or request.name
