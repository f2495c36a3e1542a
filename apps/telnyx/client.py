"""The one module that talks HTTP to Telnyx (or to the built-in sandbox).

Call Control commands follow Telnyx's command-retries page: every command
carries a ``command_id`` and is sent again, with the same id, on a 5xx, 408
or 429, on a connection error and when no answer came within 500 ms; Telnyx
ignores a repeated id within 60 s, so a retry can never apply a command
twice. Other 4xx are permanent (422 usually means the call is already gone).

We use httpx rather than the ``telnyx`` SDK because the retry rules above
need control of per-attempt timeouts and of the id sent on each attempt,
which the SDK's own retry layer would hide. Only code in Celery tasks calls
this module; webhook views never do.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)

def retryable(status: int) -> bool:
    """Telnyx's command-retries page: any 5xx (a proxy's 520-524 too), 408 and 429."""
    return status >= 500 or status in (408, 429)

CALL_GONE_CODE = "90018"


class TelnyxError(Exception):
    """A Telnyx request failed. ``permanent`` failures must not be retried."""

    def __init__(self, message: str, permanent: bool = False, status: int | None = None, body: dict | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status = status
        self.body = body or {}

    @property
    def code(self) -> str:
        errors = self.body.get("errors") or [{}]
        return str(errors[0].get("code", ""))


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    accepts_command_id: bool = True


def _call(action: str, method: str = "POST", accepts_command_id: bool = True) -> Endpoint:
    return Endpoint(method, f"/calls/{{call_control_id}}/actions/{action}", accepts_command_id)


def _conference(action: str, accepts_command_id: bool) -> Endpoint:
    return Endpoint("POST", f"/conferences/{{conference_id}}/actions/{action}", accepts_command_id)


# Action name -> endpoint. Whether an endpoint takes ``command_id`` is what
# Telnyx's published spec says of its request body.
COMMANDS: dict[str, Endpoint] = {
    "dial": Endpoint("POST", "/calls"),
    **{
        name: _call(name)
        for name in (
            "answer", "hangup", "reject", "speak", "playback_start", "playback_stop",
            "gather", "gather_using_speak", "gather_using_audio", "gather_stop", "send_dtmf",
            "enqueue", "leave_queue", "bridge", "transfer", "record_start", "record_stop",
            "record_pause", "record_resume", "transcription_start", "transcription_stop",
        )
    },
    "client_state_update": _call("client_state_update", method="PUT", accepts_command_id=False),
    "conference_create": Endpoint("POST", "/conferences"),
    "conference_join": _conference("join", True),
    "conference_leave": _conference("leave", True),
    "conference_update": _conference("update", True),
    "conference_speak": _conference("speak", True),
    "conference_end": _conference("end", True),
    "conference_record_start": _conference("record_start", True),
    "conference_record_stop": _conference("record_stop", True),
    "conference_hold": _conference("hold", False),
    "conference_unhold": _conference("unhold", False),
    "conference_mute": _conference("mute", False),
    "conference_unmute": _conference("unmute", False),
    "conference_play": _conference("play", False),
}


def endpoint_path(action: str, **path_params: str) -> str:
    return COMMANDS[action].path.format(**path_params)


class TelnyxClient:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        command_timeout: float = 0.5,
        max_attempts: int = 4,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.command_timeout = command_timeout
        self.max_attempts = max_attempts
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=httpx.Timeout(10.0, connect=2.0),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            transport=transport,
        )

    def close(self):
        self._http.close()

    # --- Call Control commands ------------------------------------------
    def command(
        self, method: str, path: str, body: dict, *, command_id: str | None, budget: float | None = None
    ) -> tuple[int, dict]:
        """Send one command, retrying transient failures with the same ``command_id``.

        No attempt starts, and none waits for its answer, past ``budget``
        seconds from now (the caller keeps every repeat inside the time in
        which Telnyx ignores a repeated id). Returns ``(status, json)``; raises
        :class:`TelnyxError` (``permanent`` for a 4xx other than 408/429,
        transient when the attempts or the budget ran out).
        """
        payload = dict(body)
        if command_id:
            payload["command_id"] = command_id
        stop = time.monotonic() + budget if budget is not None else None
        last_error: TelnyxError | None = None
        for attempt in range(1, self.max_attempts + 1):
            read_timeout = self._read_timeout(attempt)
            if attempt > 1:
                if stop is not None and time.monotonic() + _backoff(attempt) + self.command_timeout > stop:
                    break
                time.sleep(_backoff(attempt))
            if stop is not None:
                read_timeout = max(min(read_timeout, stop - time.monotonic()), 0.05)
            try:
                response = self._http.request(
                    method, path, json=payload, timeout=httpx.Timeout(5.0, read=read_timeout)
                )
            except httpx.TransportError as exc:
                # Includes the 500 ms read timeout: the command may have been
                # applied, which is exactly what command_id makes safe to retry.
                last_error = TelnyxError(f"{type(exc).__name__} on attempt {attempt}: {exc}")
                logger.info("telnyx %s %s attempt %d: %s", method, path, attempt, last_error)
                continue
            if retryable(response.status_code):
                last_error = TelnyxError(
                    f"HTTP {response.status_code} on attempt {attempt}", status=response.status_code, body=_json(response)
                )
                logger.info("telnyx %s %s attempt %d: HTTP %d", method, path, attempt, response.status_code)
                continue
            return self._finish(response)
        assert last_error is not None
        raise last_error

    def _read_timeout(self, attempt: int) -> float:
        # The first attempt gives up after 500 ms, as Telnyx asks. Later ones
        # wait longer: if the API is slow rather than lost, the first attempt
        # was applied and a patient repeat collects the answer (Telnyx drops
        # the repeated command_id) instead of timing out forever.
        return min(self.command_timeout * 2 ** (attempt - 1), 8.0)

    # --- Other resources (numbers, lookups, recordings) -----------------
    def request(
        self, method: str, path: str, *, params=None, json: dict | None = None,
        timeout: float | None = None, attempts: int | None = None,
    ) -> dict:
        """A non-command request. Reads are retried on transient failures; writes
        only when the request provably never left (connection refused), since
        without a command_id Telnyx cannot drop a duplicate (e.g. a number order).
        ``timeout``/``attempts`` bound a read someone is waiting for (a search)."""
        idempotent = method in ("GET", "HEAD", "DELETE", "PUT", "PATCH")
        last_error: TelnyxError | None = None
        extra = {"timeout": httpx.Timeout(timeout, connect=min(timeout, 2.0))} if timeout else {}
        for attempt in range(1, (attempts or self.max_attempts) + 1):
            if attempt > 1:
                time.sleep(_backoff(attempt))
            try:
                response = self._http.request(method, path, params=params, json=json, **extra)
            except httpx.ConnectError as exc:
                last_error = TelnyxError(f"cannot connect: {exc}")
                continue
            except httpx.TransportError as exc:
                last_error = TelnyxError(f"{type(exc).__name__}: {exc}")
                if idempotent:
                    continue
                raise last_error from exc
            if retryable(response.status_code) and idempotent:
                last_error = TelnyxError(f"HTTP {response.status_code}", status=response.status_code, body=_json(response))
                continue
            return self._finish(response)[1]
        assert last_error is not None
        raise last_error

    def access_token(self, credential_id: str) -> str:
        """A WebRTC login token (JWT) for a telephony credential.

        Telnyx answers ``201`` with the token as ``text/plain``, not JSON.
        A POST that creates a token is safe to repeat, so transient failures
        are retried like reads.
        """
        path = f"/telephony_credentials/{quote(credential_id, safe='')}/token"
        last_error: TelnyxError | None = None
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                time.sleep(_backoff(attempt))
            try:
                response = self._http.post(path, headers={"Accept": "text/plain"})
            except httpx.TransportError as exc:
                last_error = TelnyxError(f"{type(exc).__name__}: {exc}")
                continue
            if retryable(response.status_code):
                last_error = TelnyxError(f"HTTP {response.status_code}", status=response.status_code)
                continue
            if response.status_code >= 400:
                self._finish(response)  # raises with Telnyx's error
            return response.text.strip()
        assert last_error is not None
        raise last_error

    @staticmethod
    def _finish(response: httpx.Response) -> tuple[int, dict]:
        body = _json(response)
        if response.status_code >= 400:
            raise TelnyxError(
                _error_message(response.status_code, body),
                permanent=not retryable(response.status_code),
                status=response.status_code,
                body=body,
            )
        return response.status_code, body


def _backoff(attempt: int) -> float:
    # Telnyx asks for an immediate retry; a short, bounded pause keeps a
    # struggling API from being hammered. Attempts 2, 3, 4 wait 0.05, 0.2, 0.45 s.
    return min(0.05 * (attempt - 1) ** 2, 1.0)


def _json(response: httpx.Response) -> dict:
    try:
        value = response.json()
    except ValueError:
        return {"raw": response.text[:2000]}
    return value if isinstance(value, dict) else {"data": value}


def _error_message(status: int, body: dict) -> str:
    errors = body.get("errors") or []
    if errors and isinstance(errors[0], dict):
        first = errors[0]
        return f"HTTP {status} {first.get('code', '')} {first.get('title', '')}: {first.get('detail', '')}".strip()
    return f"HTTP {status}"


@functools.cache
def get_client() -> TelnyxClient:
    """The process-wide client (connection pool), built from settings."""
    return TelnyxClient(
        base_url=settings.TELNYX_API_BASE_URL,
        api_key=settings.TELNYX_API_KEY or "sandbox",
        command_timeout=settings.TELNYX_COMMAND_TIMEOUT_SECONDS,
        max_attempts=settings.TELNYX_COMMAND_MAX_ATTEMPTS,
    )


def reset_client() -> None:
    """Forget the cached client (tests change TELNYX_API_BASE_URL)."""
    if get_client.cache_info().currsize:
        get_client().close()
    get_client.cache_clear()
