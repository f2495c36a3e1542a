"""HTTP surface: the emulated Telnyx API under /v2, the control API under /_sandbox.

Each /v2 request goes through the same steps, in the order a client would
notice them: authentication (any non-empty Bearer key), ``api_latency_ms``,
JSON parsing, validation against the spec (422 + a logged violation), then
the engine (faults, ``command_id`` de-duplication, the handler). The answer
is checked against the spec's response schema and every request is logged.

The control API has no authentication: it only ever listens on a local
port, and it is how tests and the demo play the world outside Telnyx
(callers, agents' phones, answering machines).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import time
import uuid
from typing import Any

from aiohttp import web

from . import errors, media
from .engine import ApiRequest, Engine
from .spec import ValidatedRequest

# (method, path under /v2, handler name; "{action}" in the name comes from the path)
API_ROUTES = [
    ("POST", "/calls", "dial"),
    ("GET", "/calls/{call_control_id}", "call.get"),
    ("POST", "/calls/{call_control_id}/actions/{action}", "call.{action}"),
    ("PUT", "/calls/{call_control_id}/actions/{action}", "call.{action}"),
    ("POST", "/conferences", "conference_create"),
    ("GET", "/conferences", "conference.list"),
    ("GET", "/conferences/{id}", "conference.get"),
    ("GET", "/conferences/{conference_id}/participants", "conference.participants"),
    ("POST", "/conferences/{id}/actions/{action}", "conference.{action}"),
    ("GET", "/queues/{queue_name}", "queue.get"),
    ("GET", "/queues/{queue_name}/calls", "queue.calls"),
    ("GET", "/recordings", "recording.list"),
    ("GET", "/recordings/{recording_id}", "recording.get"),
    ("DELETE", "/recordings/{recording_id}", "recording.delete"),
    ("GET", "/available_phone_numbers", "numbers.available"),
    ("POST", "/number_orders", "number_order.create"),
    ("GET", "/number_orders", "number_order.list"),
    ("GET", "/number_orders/{number_order_id}", "number_order.get"),
    ("GET", "/phone_numbers", "phone_number.list"),
    ("GET", "/phone_numbers/{id}", "phone_number.get"),
    ("PATCH", "/phone_numbers/{id}", "phone_number.patch"),
    ("DELETE", "/phone_numbers/{id}", "phone_number.delete"),
    ("GET", "/number_lookup/{phone_number}", "number_lookup"),
]
# Only client_state_update is a PUT in the spec; other PUTs to actions 404.
_PUT_ACTIONS = {"client_state_update"}


def build_app(engine: Engine) -> web.Application:
    app = web.Application(client_max_size=4 * 1024 * 1024)
    for method, path, name in API_ROUTES:
        app.router.add_route(method, "/v2" + path, _api_handler(engine, name))
    app.router.add_route("POST", "/v2/telephony_credentials/{id}/token", _credential_token(engine))
    control = _Control(engine)
    control.register(app.router)
    return app


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )


# --- the Telnyx API ----------------------------------------------------------------


def _api_handler(engine: Engine, template: str):
    async def handle(request: web.Request) -> web.Response:
        action = request.match_info.get("action")
        name = template.replace("{action}", action) if action else template
        if request.method == "PUT" and action not in _PUT_ACTIONS:
            name = "unsupported"
        return await _serve_api(engine, request, name)

    return handle


async def _serve_api(engine: Engine, request: web.Request, name: str) -> web.Response:
    started = time.monotonic()
    raw = await request.read()
    path = request.path[len("/v2") :]
    query = list(request.query.items())
    headers = {
        "Authorization": request.headers.get("Authorization", ""),
        "Content-Type": "application/json",
    }
    body: Any = None
    deduped = False
    error_detail = None
    try:
        if not re.fullmatch(r"Bearer\s+\S.*", request.headers.get("Authorization", "").strip()):
            raise errors.unauthorized()
        if engine.config.faults.api_latency_ms > 0:
            await asyncio.sleep(engine.config.faults.api_latency_ms / 1000)
        body = _parse_body(raw, request.method)
        if name not in engine.handlers:
            raise errors.not_found(
                f"{request.method} {request.path} is not emulated by the sandbox"
            )
        checked = _validate(engine, request, path, query, headers, body)
        api_request = ApiRequest(
            name=name,
            method=request.method,
            path=path,
            path_params=dict(request.match_info),
            query=query,
            deep=checked.deep,
            body=body,
        )
        status, answer, deduped = await engine.api(api_request)
    except errors.ApiError as exc:
        status, answer, error_detail = exc.status, exc.body(), exc.detail
        if exc.code == "10015" or exc.status == 400:
            engine.violation(
                "request",
                exc.detail,
                method=request.method,
                path=request.path,
                pointer=exc.pointer,
                parameter=exc.parameter,
            )
    payload = json.dumps(answer).encode()
    _check_response(engine, request, path, query, headers, body, status, payload)
    _log(engine, request, name, body, status, answer, deduped, error_detail, started)
    return web.Response(body=payload, status=status, content_type="application/json")


def _parse_body(raw: bytes, method: str) -> Any:
    if not raw.strip():
        # Telnyx's own examples POST actions such as answer and leave_queue
        # with no body at all; treat that as an empty JSON object.
        return {} if method in ("POST", "PUT", "PATCH") else None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_json(f"Error decoding request body: {exc}") from exc


def _validate(engine, request, path, query, headers, body) -> ValidatedRequest:
    if engine.spec is None:
        return ValidatedRequest(path_params=dict(request.match_info), deep=_naive_deep(query))
    encoded = json.dumps(body).encode() if body is not None else None
    return engine.spec.validate_request(request.method, path, query, headers, encoded)


def _naive_deep(query: list[tuple[str, str]]) -> dict:
    """deepObject params without a spec: nested dicts of strings, digits as ints."""
    result: dict = {}
    for key, value in query:
        parts = re.findall(r"[^\[\]]+", key)
        if len(parts) < 2:
            continue
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        typed: Any = (
            int(value) if value.isdigit() and parts[-1] in ("number", "size", "limit") else value
        )
        if value in ("true", "false"):
            typed = value == "true"
        if key.endswith("[]") or parts[-1] == "features":
            node.setdefault(parts[-1], []).extend(value.split(","))
        else:
            node[parts[-1]] = typed
    return result


def _check_response(engine, request, path, query, headers, body, status, payload) -> None:
    if engine.spec is None or not engine.config.validate_responses:
        return
    encoded = json.dumps(body).encode() if body is not None else None
    problem = engine.spec.validate_response(
        request.method, path, query, headers, encoded, status, payload
    )
    if problem:
        engine.violation(
            "response", problem, method=request.method, path=request.path, status=status
        )


def _log(engine, request, name, body, status, answer, deduped, error_detail, started) -> None:
    body_dict = body if isinstance(body, dict) else {}
    call_control_id = request.match_info.get("call_control_id")
    if name == "dial" and status == 200:
        call_control_id = answer["data"]["call_control_id"]
    engine.log_command(
        {
            "at": time.time(),
            "method": request.method,
            "path": request.path,
            "name": name,
            "action": request.match_info.get("action") or name,
            "call_control_id": call_control_id,
            "conference_id": request.match_info.get("id")
            if name.startswith("conference")
            else None,
            "command_id": body_dict.get("command_id"),
            "status": status,
            "deduped": deduped,
            "error": error_detail,
            "latency_ms": round((time.monotonic() - started) * 1000, 2),
            "body": body,
        }
    )


# --- WebRTC access tokens ------------------------------------------------------------------


def _credential_token(engine: Engine):
    """``POST /v2/telephony_credentials/{id}/token``: a JWT-shaped login token.

    Not in the spec subset the rest of /v2 is validated against (it belongs
    to Telnyx's separate WebRTC credentials spec), so it is served here,
    outside validation: 201 with the token as ``text/plain``, as Telnyx
    documents. The token is signed with a per-process secret and carries
    the credential id; nothing in the sandbox checks it, since browsers
    cannot reach a WebRTC gateway in sandbox mode anyway.
    """
    secret = os.urandom(32)

    async def handle(request: web.Request) -> web.Response:
        started = time.monotonic()
        credential_id = request.match_info["id"]
        if not re.fullmatch(r"Bearer\s+\S.*", request.headers.get("Authorization", "").strip()):
            status, body = 401, json.dumps(errors.unauthorized().body())
            content_type = "application/json"
        else:
            status, body, content_type = 201, _jwt(secret, credential_id), "text/plain"
        engine.log_command({
            "at": time.time(), "method": "POST", "path": request.path, "name": "telephony_credential.token",
            "action": "telephony_credential.token", "call_control_id": None, "conference_id": None,
            "command_id": None, "status": status, "deduped": False, "error": None,
            "latency_ms": round((time.monotonic() - started) * 1000, 2), "body": {"id": credential_id},
        })
        return web.Response(text=body, status=status, content_type=content_type)

    return handle


def _jwt(secret: bytes, credential_id: str) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    now = int(time.time())
    header = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = part(json.dumps({
        "iss": "telnyx_telephony", "aud": "telnyx_telephony", "sub": credential_id, "iat": now,
        "exp": now + 24 * 3600, "jti": str(uuid.uuid4()), "telephony_credential": credential_id,
    }).encode())
    signature = part(hmac.new(secret, f"{header}.{claims}".encode(), hashlib.sha256).digest())
    return f"{header}.{claims}.{signature}"


# --- the control API -------------------------------------------------------------------


class _Control:
    """Routes under /_sandbox: the world outside Telnyx, and the logs."""

    def __init__(self, engine: Engine):
        self.e = engine

    def register(self, router: web.UrlDispatcher) -> None:
        routes = [
            ("GET", "/health", self.health),
            ("POST", "/reset", self.reset),
            ("GET", "/config", self.get_config),
            ("PUT", "/config", self.put_config),
            ("POST", "/calls", self.place_call),
            ("GET", "/calls", self.list_calls),
            ("GET", "/calls/{ccid}", self.get_call),
            ("POST", "/calls/{ccid}/dtmf", self.dtmf),
            ("POST", "/calls/{ccid}/hangup", self.hangup),
            ("POST", "/calls/{ccid}/answer", self.answer),
            ("POST", "/calls/{ccid}/say", self.say),
            ("GET", "/destinations", self.mapping_get("destinations")),
            ("PUT", "/destinations", self.mapping_put("destinations")),
            ("GET", "/amd", self.mapping_get("amd")),
            ("PUT", "/amd", self.mapping_put("amd")),
            ("GET", "/caller_names", self.get_caller_names),
            ("PUT", "/caller_names", self.put_caller_names),
            ("GET", "/owned_numbers", self.get_owned),
            ("PUT", "/owned_numbers", self.put_owned),
            ("GET", "/commands", self.commands),
            ("GET", "/webhooks", self.webhooks),
            ("GET", "/events", self.events),
            ("GET", "/violations", self.violations),
            ("GET", "/lookups", self.lookups),
            ("GET", "/conferences", self.conferences),
            ("GET", "/conferences/{id}", self.conference),
            ("GET", "/queues", self.queues),
            ("GET", "/media/recordings/{name}", self.recording_media),
            ("GET", "/media/tone.wav", self.tone),
        ]
        for method, path, handler in routes:
            router.add_route(method, "/_sandbox" + path, self._guarded(handler))

    @staticmethod
    def _guarded(handler):
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except (ValueError, KeyError, TypeError) as exc:
                return _json({"error": f"{type(exc).__name__}: {exc}"}, status=400)
            except errors.ApiError as exc:
                return _json({"error": exc.detail, **exc.body()}, status=exc.status)

        return run

    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        return json.loads(raw) if raw.strip() else {}

    def _leg(self, request: web.Request):
        leg = self.e.legs.get(request.match_info["ccid"])
        if leg is None:
            raise errors.not_found("Call not found")
        return leg

    # --- world -------------------------------------------------------------------

    async def health(self, request):
        return _json({"ok": True, "spec_loaded": self.e.spec is not None})

    async def reset(self, request):
        await self.e.reset()
        return _json({"ok": True})

    async def get_config(self, request):
        return _json(self.e.config.as_dict(self.e.spec is not None))

    async def put_config(self, request):
        changes = await self._body(request)
        seed = changes.get("seed")
        self.e.config.update(changes)
        if seed is not None:
            self.e.set_seed(int(seed))
        return _json(self.e.config.as_dict(self.e.spec is not None))

    async def place_call(self, request):
        spec = await self._body(request)
        for field in ("from", "to"):
            if not isinstance(spec.get(field), str) or not spec[field]:
                raise ValueError(f"'{field}' is required")
        leg = self.e.calls.place_inbound(spec)
        return _json(self.leg_json(leg), status=201)

    async def list_calls(self, request):
        q = request.query
        rows = []
        for leg in self.e.legs.values():
            if q.get("direction") and leg.direction != q["direction"]:
                continue
            if q.get("to") and leg.to != q["to"]:
                continue
            if q.get("from") and leg.from_ != q["from"]:
                continue
            if q.get("state") and _state(leg) != q["state"]:
                continue
            if q.get("alive") and leg.alive != (q["alive"].lower() == "true"):
                continue
            if q.get("call_session_id") and leg.call_session_id != q["call_session_id"]:
                continue
            rows.append(self.leg_json(leg))
        return _json({"data": rows})

    async def get_call(self, request):
        return _json(self.leg_json(self._leg(request)))

    async def dtmf(self, request):
        leg = self._leg(request)
        digits = str((await self._body(request))["digits"])
        if not leg.alive:
            raise errors.call_ended()
        self.e.calls.press_digits(leg, digits)
        return _json(self.leg_json(leg))

    async def hangup(self, request):
        leg = self._leg(request)
        cause = (await self._body(request)).get("cause") or "normal_clearing"
        if leg.alive:
            self.e.calls.remote_hangup(leg, cause)
        return _json(self.leg_json(leg))

    async def answer(self, request):
        leg = self._leg(request)
        self.e.calls.remote_answer(leg)
        return _json(self.leg_json(leg))

    async def say(self, request):
        leg = self._leg(request)
        text = str((await self._body(request))["text"])
        delivered = self.e.calls.say(leg, text)
        return _json({"transcribed": delivered, "call": self.leg_json(leg)})

    def mapping_get(self, attribute: str):
        async def run(request):
            return _json(getattr(self.e, attribute))

        return run

    def mapping_put(self, attribute: str):
        async def run(request):
            # Merge: the demo adds agents' phones one at a time; null removes.
            changes = await self._body(request)
            if not isinstance(changes, dict):
                raise ValueError("expected a JSON object keyed by destination")
            target = getattr(self.e, attribute)
            for key, value in changes.items():
                if value is None:
                    target.pop(key, None)
                elif isinstance(value, dict):
                    target[key] = value
                else:
                    raise ValueError(f"{key}: expected an object or null")
            return _json(target)

        return run

    async def get_caller_names(self, request):
        return _json(self.e.numbers.caller_names)

    async def put_caller_names(self, request):
        # Merge; here null is a value: "no CNAM on record" for that number.
        self.e.numbers.caller_names.update(await self._body(request))
        return _json(self.e.numbers.caller_names)

    async def get_owned(self, request):
        return _json(
            {"data": [self.e.numbers.phone_number_json(n) for n in self.e.numbers.owned.values()]}
        )

    async def put_owned(self, request):
        body = await self._body(request)
        items = body.get("phone_numbers", body.get("data")) if isinstance(body, dict) else body
        numbers = self.e.numbers.pre_own(items or [])
        return _json({"data": [self.e.numbers.phone_number_json(n) for n in numbers]})

    # --- logs --------------------------------------------------------------------

    async def commands(self, request):
        return _json({"data": _filtered(self.e.command_log, request.query)})

    async def webhooks(self, request):
        rows = _filtered(self.e.outbox.log, request.query)
        return _json({"data": rows, "meta": {"pending": self.e.outbox.pending}})

    async def events(self, request):
        return _json({"data": _filtered(self.e.events, request.query)})

    async def violations(self, request):
        return _json({"data": _filtered(self.e.violations, request.query)})

    async def lookups(self, request):
        return _json({"data": _filtered(self.e.numbers.lookups, request.query)})

    async def conferences(self, request):
        items = self.e.conferences.items.values()
        return _json({"data": [self.e.conferences.control_json(c) for c in items]})

    async def conference(self, request):
        return _json(
            self.e.conferences.control_json(self.e.conferences.find(request.match_info["id"]))
        )

    async def queues(self, request):
        return _json(
            {
                "data": [
                    {**self.e.calls.queue_json(q), "calls": list(q.calls)}
                    for q in self.e.calls.queues.values()
                ]
            }
        )

    async def recording_media(self, request):
        stem, _, extension = request.match_info["name"].rpartition(".")
        recording = self.e.calls.recordings.get(stem)
        if recording is None or extension not in ("wav", "mp3"):
            return _json({"error": "recording not found"}, status=404)
        seconds = media.recording_seconds(recording.duration_seconds)
        if extension == "wav":
            data = media.wav_tone(seconds, channels=2 if recording.channels == "dual" else 1)
            return web.Response(body=data, content_type="audio/wav")
        return web.Response(body=media.mp3_silence(seconds), content_type="audio/mpeg")

    async def tone(self, request):
        return web.Response(body=media.wav_tone(1.0), content_type="audio/wav")

    # --- views -------------------------------------------------------------------

    def leg_json(self, leg) -> dict:
        from .state import iso

        e = self.e
        conference = e.conferences.items.get(leg.conference_id or "")
        participant = conference.participants.get(leg.call_control_id) if conference else None
        parties: list[str] = []
        if leg.bridged_with:
            parties = [leg.bridged_with]
        elif conference is not None:
            parties = e.conferences.hears(conference).get(leg.call_control_id, [])
        queue = e.calls.queues.get(leg.queue_name or "")
        recording = leg.recording
        return {
            "call_control_id": leg.call_control_id,
            "call_leg_id": leg.call_leg_id,
            "call_session_id": leg.call_session_id,
            "connection_id": leg.connection_id,
            "direction": leg.direction,
            "from": leg.from_,
            "to": leg.to,
            "caller_id_name": leg.caller_id_name,
            "state": _state(leg),
            "alive": leg.alive,
            "created_at": iso(leg.created_at),
            "answered_at": iso(leg.answered_at),
            "ended_at": iso(leg.ended_at),
            "hangup_cause": leg.hangup_cause,
            "hangup_source": leg.hangup_source,
            "client_state": leg.client_state,
            "webhook_url": leg.webhook_url,
            "hearing": {
                "media": leg.media,
                "waiting_media": [{**w["item"], "loops": w["loops"]} for w in leg.media_queue],
                "parties": parties,
                "conference_media": conference.media
                if conference
                and conference.media
                and leg.call_control_id in conference.media["targets"]
                else None,
            },
            "queue": {
                "name": queue.name,
                "position": queue.calls.index(leg.call_control_id) + 1,
                "enqueued_at": iso(leg.enqueued_at),
            }
            if queue and leg.call_control_id in queue.calls
            else None,
            "bridged_with": leg.bridged_with,
            "bridge_kind": leg.bridge_kind,
            "transfer_to": leg.transfer_to,
            "transfer_from": leg.transfer_from,
            "conference": {
                "id": conference.id,
                "name": conference.name,
                "supervisor_role": participant.supervisor_role,
                "whisper_call_control_ids": participant.whisper_call_control_ids,
                "muted": participant.muted,
                "on_hold": participant.on_hold,
            }
            if participant
            else None,
            "recording": {
                "id": recording.id,
                "format": recording.format,
                "channels": recording.channels,
                "paused": recording.paused_at is not None,
                "started_at": iso(recording.started_at),
            }
            if recording
            else None,
            "recording_ids": list(leg.recording_ids),
            "gather": {"kind": leg.gather.kind, "collected": leg.gather.collected}
            if leg.gather
            else None,
            "transcribing": leg.transcribing,
            "destination": leg.destination,
            "amd": leg.amd,
            "dtmf_sent": list(leg.dtmf_sent),
            "dtmf_received": "".join(leg.dtmf_received),
            "dtmf_script": list(leg.dtmf_script),
            "commands": list(leg.commands),
            "webhooks": list(leg.webhooks),
        }


def _state(leg) -> str:
    if not leg.alive:
        return "ended"
    if leg.answered:
        return "answered"
    return "parked" if leg.direction == "incoming" else "ringing"


def _filtered(rows, query) -> list[dict]:
    """Rows whose fields equal every query parameter given (strings compared)."""
    wanted = {k: v for k, v in query.items() if k not in ("limit",)}
    out = []
    for row in rows:
        if all(_text(row.get(key)) == value for key, value in wanted.items()):
            out.append(row)
    limit = query.get("limit")
    return out[-int(limit) :] if limit else out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
