"""A synchronous client for the sandbox's control API (``/_sandbox``).

Tests use it to play the outside world (callers pressing keys, agents'
phones answering) and to read the logs; the app uses it in sandbox mode,
e.g. to answer a simulated agent leg when the agent clicks Accept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx


class SandboxError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(f"sandbox answered {status}: {body}")
        self.status = status
        self.body = body


class SandboxClient:
    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url + "/_sandbox", timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SandboxClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _request(self, method: str, path: str, json: Any = None, params: dict | None = None) -> Any:
        params = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        response = self._http.request(method, path, json=json, params=params)
        body = response.json() if response.content else None
        if response.status_code >= 400:
            raise SandboxError(response.status_code, body)
        return body

    # --- world ---------------------------------------------------------------------

    def health(self) -> dict:
        return self._request("GET", "/health")

    def reset(self) -> None:
        self._request("POST", "/reset")

    def config(self) -> dict:
        return self._request("GET", "/config")

    def update_config(self, **changes: Any) -> dict:
        return self._request("PUT", "/config", json=changes)

    def set_faults(self, **faults: Any) -> dict:
        return self._request("PUT", "/config", json={"faults": faults})

    def place_call(
        self,
        from_: str,
        to: str,
        *,
        caller_name: str | None = None,
        dtmf_script: list[str] | None = None,
        speech_script: list[str] | None = None,
        hangup_after_ms: float | None = None,
        connection_id: str | None = None,
    ) -> dict:
        """A simulated caller rings ``to``; returns the new (incoming) call."""
        body = {
            "from": from_,
            "to": to,
            "caller_name": caller_name,
            "dtmf_script": dtmf_script,
            "speech_script": speech_script,
            "hangup_after_ms": hangup_after_ms,
            "connection_id": connection_id,
        }
        return self._request(
            "POST", "/calls", json={k: v for k, v in body.items() if v is not None}
        )

    def calls(self, **filters: Any) -> list[dict]:
        """Filters: direction, to, from, state (parked|ringing|answered|ended), alive, call_session_id."""
        return self._request("GET", "/calls", params=filters)["data"]

    def call(self, call_control_id: str) -> dict:
        return self._request("GET", f"/calls/{call_control_id}")

    def press(self, call_control_id: str, digits: str) -> dict:
        """The far end presses keys (each gives call.dtmf.received)."""
        return self._request("POST", f"/calls/{call_control_id}/dtmf", json={"digits": digits})

    def hangup(self, call_control_id: str, cause: str | None = None) -> dict:
        """The far end hangs up."""
        return self._request(
            "POST", f"/calls/{call_control_id}/hangup", json={"cause": cause} if cause else {}
        )

    def answer(self, call_control_id: str) -> dict:
        """The dialled party picks up a leg ringing in "manual" mode."""
        return self._request("POST", f"/calls/{call_control_id}/answer")

    def say(self, call_control_id: str, text: str) -> dict:
        return self._request("POST", f"/calls/{call_control_id}/say", json={"text": text})

    def set_destinations(self, mapping: dict[str, dict | None]) -> dict:
        """{"sip:alice@sandbox.telnyx": {"answer": "auto|manual|never|busy|reject|not_found",
        "ring_ms": 800, "hangup_after_ms": ..., "dtmf_script": [...]}, "*": default}; merged, null removes."""
        return self._request("PUT", "/destinations", json=mapping)

    def destinations(self) -> dict:
        return self._request("GET", "/destinations")

    def set_amd(self, mapping: dict[str, dict | None]) -> dict:
        """{"+1555...": {"result": "human|machine|not_sure|fax|silence", "greeting_ms": 3000, "beep": true}}."""
        return self._request("PUT", "/amd", json=mapping)

    def amd(self) -> dict:
        return self._request("GET", "/amd")

    def set_caller_names(self, mapping: dict[str, str | None]) -> dict:
        return self._request("PUT", "/caller_names", json=mapping)

    def caller_names(self) -> dict:
        return self._request("GET", "/caller_names")

    def set_owned_numbers(self, numbers: list[str | dict]) -> list[dict]:
        """Pre-own numbers: "+1..." or {"phone_number", "connection_id", "tags", ...}."""
        return self._request("PUT", "/owned_numbers", json={"phone_numbers": numbers})["data"]

    def owned_numbers(self) -> list[dict]:
        return self._request("GET", "/owned_numbers")["data"]

    # --- logs ----------------------------------------------------------------------

    def commands(self, **filters: Any) -> list[dict]:
        """Every /v2 request; filter on any field (call_control_id, action, command_id, status, deduped...)."""
        return self._request("GET", "/commands", params=filters)["data"]

    def webhooks(self, **filters: Any) -> list[dict]:
        """Every delivery attempt (event_id, event_type, call_control_id, attempt, status, latency_ms...)."""
        return self._request("GET", "/webhooks", params=filters)["data"]

    def pending_webhooks(self) -> int:
        return self._request("GET", "/webhooks", params={"limit": 1})["meta"]["pending"]

    def events(self, **filters: Any) -> list[dict]:
        """Every emitted event (id, event_type, occurred_at, call_control_id, payload)."""
        return self._request("GET", "/events", params=filters)["data"]

    def violations(self, **filters: Any) -> list[dict]:
        return self._request("GET", "/violations", params=filters)["data"]

    def lookups(self, **filters: Any) -> list[dict]:
        return self._request("GET", "/lookups", params=filters)["data"]

    def conferences(self) -> list[dict]:
        return self._request("GET", "/conferences")["data"]

    def conference(self, id_or_name: str) -> dict:
        """The conference with participants, roles and ``hears`` (who hears whom)."""
        return self._request("GET", f"/conferences/{id_or_name}")

    def queues(self) -> list[dict]:
        return self._request("GET", "/queues")["data"]

    def download(self, url: str) -> bytes:
        response = self._http.get(url)
        response.raise_for_status()
        return response.content

    # --- waiting -------------------------------------------------------------------

    @staticmethod
    def wait_for(
        fn: Callable[[], Any], timeout: float = 10, interval: float = 0.02, message: str = ""
    ) -> Any:
        """Call ``fn`` until it returns something truthy; return that."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            last = fn()
            if last:
                return last
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    message or f"condition not met within {timeout}s (last: {last!r})"
                )
            time.sleep(interval)

    def wait_for_call(
        self, predicate: Callable[[dict], bool], timeout: float = 10, **filters: Any
    ) -> dict:
        """The first call (as in :meth:`calls`) for which ``predicate`` is true."""
        return self.wait_for(
            lambda: next((c for c in self.calls(**filters) if predicate(c)), None),
            timeout,
            message=f"no call matched within {timeout}s",
        )

    def wait_for_event(
        self, call_control_id: str, event_type: str, timeout: float = 10, delivered: bool = False
    ) -> dict:
        """The first ``event_type`` event of a call; with ``delivered``, only once
        the app has acknowledged it (2xx)."""

        def found():
            events = self.events(call_control_id=call_control_id, event_type=event_type)
            if not events:
                return None
            if delivered and not any(
                200 <= (w["status"] or 0) < 300 for w in self.webhooks(event_id=events[0]["id"])
            ):
                return None
            return events[0]

        return self.wait_for(
            found, timeout, message=f"no {event_type} for {call_control_id} within {timeout}s"
        )

    def wait_for_command(self, call_control_id: str, action: str, timeout: float = 10) -> dict:
        """The first logged request ``action`` (e.g. "answer", "dial") on a call."""
        return self.wait_for(
            lambda: next(iter(self.commands(call_control_id=call_control_id, action=action)), None),
            timeout,
            message=f"no {action} command for {call_control_id} within {timeout}s",
        )

    def wait_for_idle(self, timeout: float = 10) -> None:
        """Until every emitted webhook has been delivered (or given up on)."""
        self.wait_for(
            lambda: self.pending_webhooks() == 0, timeout, message="webhooks still pending"
        )


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
