"""Telnyx's published OpenAPI spec, used to check both directions of traffic.

Every request the sandbox receives is validated against the spec before it
has any effect, and every webhook it emits is validated against the spec's
``webhooks:`` event schemas, so tests can show that the sandbox asks and
answers exactly what Telnyx documents.

Loading is slow (YAML ~0.3 s, openapi-core ~2-4 s), so a spec is loaded once
per process and path and shared by every sandbox in the process.

In-memory corrections, each for a defect of the published file rather than
a choice of ours:

* ``default: null`` on properties that are not nullable (five of them, see
  SOURCE.md next to the spec) are dropped: they break schema compilation.
* ``BridgeRequest`` lists ``call_control_id`` as required while its own
  description says it "can't be used together with queue", and the queueing
  guide bridges with ``{"queue": "support"}`` alone. We drop that ``required``
  and let the engine insist on exactly one of the two.

Query parameters of ``style: deepObject`` (``filter[...]``, ``page[...]``)
are parsed and checked here rather than by openapi-core, which cannot cast
nested keys such as ``filter[phone_number][starts_with]`` or arrays such as
``filter[features][]=sms``; the parsed, typed values are handed to the
handlers.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import errors

logger = logging.getLogger(__name__)

SPEC_ENV = "TELNYX_OPENAPI_SPEC"
SPEC_FILENAME = "telnyx-voice-numbers-subset.yml"
_REPO_ROOT = Path(__file__).resolve().parents[2]
_CANDIDATES = (
    _REPO_ROOT.parent / "shared" / "telnyx-openapi" / SPEC_FILENAME,
    Path("/work/shared/telnyx-openapi") / SPEC_FILENAME,
)
# The spec's server is https://api.telnyx.com/v2 and its paths have no /v2.
_HOST_URL = "https://api.telnyx.com"
_API_PREFIX = "/v2"

# Fields Telnyx's own guides show in webhook payloads although the event
# schema in the spec does not declare them. The app needs them (a recording
# must be tied to its call), so the sandbox sends them and the strict
# "undeclared field" check lets exactly these through.
DOCUMENTED_EXTRAS: dict[str, frozenset[str]] = {
    # storing-call-recordings guide: the saved-recording payload.
    "call.recording.saved": frozenset(
        {"call_control_id", "recording_id", "format", "start_time", "end_time"}
    ),
    # call-tracking guide computes the call's duration from these.
    "call.hangup": frozenset({"end_time"}),
}

# Events the sandbox sends that the voice/numbers subset has no schema for
# (the full spec defines them outside the extracted part). They pass
# unchecked instead of being reported as violations.
UNCHECKED_EVENTS = frozenset({"call.transcription"})

_lock = threading.Lock()
_cache: dict[Path, Spec] = {}


def find_spec_path(explicit: str | os.PathLike | None = None) -> Path | None:
    """The spec file to use: explicit path, then $TELNYX_OPENAPI_SPEC, then the
    shared folder next to the repository, then /work/shared."""
    if explicit:
        return Path(explicit)
    if os.environ.get(SPEC_ENV):
        return Path(os.environ[SPEC_ENV])
    for candidate in _CANDIDATES:
        if candidate.is_file():
            return candidate
    return None


def load_spec(explicit: str | os.PathLike | None = None) -> Spec | None:
    """The process-wide :class:`Spec`, or None (with a warning) if not found."""
    path = find_spec_path(explicit)
    if path is None or not path.is_file():
        logger.warning("Telnyx OpenAPI spec not found (%s); serving without validation", path)
        return None
    path = path.resolve()
    # One lock for all paths: two sandboxes starting at once must not both
    # spend seconds building the same validator.
    with _lock:
        if path not in _cache:
            _cache[path] = Spec(_read_spec(path), path)
        return _cache[path]


def _read_spec(path: Path) -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as fh:
        doc = yaml.load(fh, Loader=loader)
    _drop_null_defaults(doc)
    bridge = doc.get("components", {}).get("schemas", {}).get("BridgeRequest")
    if bridge and "required" in bridge:
        bridge["required"] = [name for name in bridge["required"] if name != "call_control_id"]
    return doc


def _drop_null_defaults(node: Any) -> None:
    if isinstance(node, dict):
        if "default" in node and node["default"] is None:
            types = node.get("type")
            if not (isinstance(types, list) and "null" in types):
                del node["default"]
        for value in node.values():
            _drop_null_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _drop_null_defaults(value)


@dataclass
class ValidatedRequest:
    """What a handler needs from a checked request."""

    path_params: dict[str, str] = field(default_factory=dict)
    deep: dict[str, Any] = field(default_factory=dict)  # deepObject params, typed


class _CoreRequest:
    """The request protocol openapi-core expects, built from raw parts."""

    def __init__(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict,
        body: bytes | None,
    ):
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.host_url = _HOST_URL
        self.path = _API_PREFIX + path
        self.method = method.lower()
        self.body = body
        self.content_type = "application/json"
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query), header=Headers(headers), cookie=ImmutableMultiDict()
        )


class _CoreResponse:
    def __init__(self, status: int, body: bytes):
        from werkzeug.datastructures import Headers

        self.status_code = status
        self.data = body
        self.content_type = "application/json"
        self.headers = Headers({"Content-Type": "application/json"})


class Spec:
    """A loaded spec with request, response and webhook validators."""

    def __init__(self, doc: dict, path: Path | None = None):
        from openapi_core import OpenAPI
        from openapi_schema_validator import OAS31Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.doc = doc
        self.path = path
        self.openapi = OpenAPI.from_dict(doc)
        resource = Resource.from_contents(doc, default_specification=DRAFT202012)
        self._registry = Registry().with_resource("urn:telnyx-spec", resource)
        self._validator_cls = OAS31Validator
        self._validators: dict[str, Any] = {}
        self._routes = self._compile_routes()
        self.webhook_schemas = self._map_webhooks()

    # --- plumbing ---------------------------------------------------------

    def _resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target[int(part)] if isinstance(target, list) else target[part]
            node = target
        return node

    def _validator(self, pointer: str):
        """A compiled validator for the schema at ``#<pointer>`` (cached)."""
        if pointer not in self._validators:
            schema = {"$ref": f"urn:telnyx-spec#{pointer}"}
            self._validators[pointer] = self._validator_cls(
                schema, registry=self._registry, format_checker=self._validator_cls.FORMAT_CHECKER
            )
        return self._validators[pointer]

    def _compile_routes(self) -> list[tuple[re.Pattern, str]]:
        routes = []
        for template in self.doc.get("paths", {}):
            regex = re.sub(r"\\{([^}]+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
            routes.append((re.compile(f"^{regex}$"), template))
        # Literal segments beat parameters: /phone_numbers/jobs is not an id.
        routes.sort(key=lambda item: item[1].count("{"))
        return routes

    def _map_webhooks(self) -> dict[str, str]:
        """event_type -> JSON pointer of its event schema, read from ``webhooks:``."""
        mapping = {}
        for item in self.doc.get("webhooks", {}).values():
            schema = item.get("post", {}).get("requestBody", {}).get("content", {})
            schema = schema.get("application/json", {}).get("schema", {})
            ref = schema.get("$ref")
            if not ref:
                continue
            event = self._resolve(self._resolve(schema).get("properties", {}).get("data", {}))
            for event_type in event.get("properties", {}).get("event_type", {}).get("enum", []):
                mapping[event_type] = ref.lstrip("#")
        return mapping

    def operation(self, method: str, path: str) -> tuple[str, dict, dict] | None:
        """(path template, operation, path params) for a request, if the spec has it."""
        for regex, template in self._routes:
            match = regex.match(path)
            if match and method.lower() in self.doc["paths"][template]:
                return template, self.doc["paths"][template][method.lower()], match.groupdict()
        return None

    # --- requests ---------------------------------------------------------

    def validate_request(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict,
        body: bytes | None,
    ) -> ValidatedRequest:
        """Check a request (``path`` without /v2); raise ApiError (422) if it
        does not match the spec."""
        from openapi_core.exceptions import OpenAPIError

        found = self.operation(method, path)
        if found is None:
            raise errors.not_found(f"No route for {method.upper()} {_API_PREFIX}{path}")
        template, op, path_params = found
        deep_names = self._deep_object_params(template, op)
        result = ValidatedRequest(path_params=path_params)
        plain_query = []
        for key, value in query:
            name = key.split("[", 1)[0]
            if name in deep_names and "[" in key:
                continue
            plain_query.append((key, value))
        for name, schema_pointer in deep_names.items():
            result.deep[name] = self._check_deep_object(name, schema_pointer, query)
        try:
            self.openapi.validate_request(_CoreRequest(method, path, plain_query, headers, body))
        except OpenAPIError as exc:
            raise _request_error(exc) from exc
        return result

    def _deep_object_params(self, template: str, op: dict) -> dict[str, str]:
        """deepObject parameter name -> JSON pointer of its schema."""
        escaped = template.replace("~", "~0").replace("/", "~1")
        method = next(m for m, o in self.doc["paths"][template].items() if o is op)
        places = (
            (self.doc["paths"][template].get("parameters", []), f"/paths/{escaped}/parameters"),
            (op.get("parameters", []), f"/paths/{escaped}/{method}/parameters"),
        )
        found = {}
        for params, base in places:
            for index, param in enumerate(params):
                resolved = self._resolve(param)
                if resolved.get("in") == "query" and resolved.get("style") == "deepObject":
                    ref = param.get("$ref")
                    found[resolved["name"]] = (
                        ref.lstrip("#") if ref else f"{base}/{index}"
                    ) + "/schema"
        return found

    def _check_deep_object(self, name: str, pointer: str, query: list[tuple[str, str]]) -> dict:
        schema = self._resolve({"$ref": "#" + pointer})
        raw: dict = {}
        for key, value in query:
            if not key.startswith(name + "["):
                continue
            parts = re.findall(r"\[([^\]]*)\]", key[len(name) :])
            _insert(raw, [p for p in parts if p != ""], value)
        typed = _coerce(raw, schema, self._resolve)
        error = next(iter(self._validator(pointer).iter_errors(typed)), None)
        if error is not None:
            where = "".join(f"[{p}]" for p in error.absolute_path)
            raise errors.invalid_parameter(error.message, parameter=f"{name}{where}")
        return typed

    # --- responses ----------------------------------------------------------

    def validate_response(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict,
        body: bytes | None,
        status: int,
        response_body: bytes,
    ) -> str | None:
        """Why a response we produced does not match the spec, or None."""
        from openapi_core.exceptions import OpenAPIError

        found = self.operation(method, path)
        if found is None:
            return None
        deep = set(self._deep_object_params(found[0], found[1]))
        plain = [(k, v) for k, v in query if k.split("[", 1)[0] not in deep]
        request = _CoreRequest(method, path, plain, headers, body)
        try:
            self.openapi.validate_response(request, _CoreResponse(status, response_body))
        except OpenAPIError as exc:
            return _describe(exc)
        return None

    # --- webhooks -----------------------------------------------------------

    def payload_fields(self, event_type: str) -> frozenset[str] | None:
        """Payload keys the spec declares for an event type (None if unknown)."""
        pointer = self.webhook_schemas.get(event_type)
        if pointer is None:
            return None
        data = self._resolve(
            self._resolve({"$ref": "#" + pointer}).get("properties", {}).get("data", {})
        )
        payload = self._resolve(data.get("properties", {}).get("payload", {}))
        return frozenset(payload.get("properties", {}))

    def validate_webhook(self, data: dict) -> list[str]:
        """Problems with one emitted event (``data`` of the envelope)."""
        event_type = data.get("event_type")
        pointer = self.webhook_schemas.get(event_type)
        if pointer is None and event_type in UNCHECKED_EVENTS:
            return []
        if pointer is None:
            return [f"the spec has no webhook schema for event_type {event_type!r}"]
        problems = [
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in self._validator(pointer).iter_errors({"data": data})
        ]
        declared = self.payload_fields(event_type) or frozenset()
        allowed = declared | DOCUMENTED_EXTRAS.get(event_type, frozenset())
        for key in sorted(set(data.get("payload", {})) - allowed):
            problems.append(f"data/payload/{key}: not declared by the spec for {event_type}")
        return problems


def _insert(target: dict, parts: list[str], value: str) -> None:
    """Put ``value`` at ``target[p0][p1]...``; repeated keys collect a list."""
    if not parts:
        return
    node = target
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):  # filter[a]=1 and filter[a][b]=2 together
            return
    leaf = node.setdefault(parts[-1], [])
    if isinstance(leaf, list):
        leaf.append(value)


def _coerce(raw: dict, schema: dict, resolve) -> dict:
    """Give query strings the types the schema asks for; leave the rest to the
    validator, which then reports a readable type error."""
    props = schema.get("properties", {})
    typed = {}
    for key, value in raw.items():
        sub = resolve(props.get(key, {}))
        if isinstance(value, dict):
            typed[key] = _coerce(value, sub, resolve)
        else:
            typed[key] = _coerce_leaf(value, sub, resolve)
    return typed


def _coerce_leaf(values: list[str], schema: dict, resolve) -> Any:
    kinds = _types(schema, resolve)
    if "array" in kinds and ("string" not in kinds or len(values) > 1):
        items = resolve(schema.get("items", {})) if "items" in schema else {}
        if not items:
            for option in schema.get("oneOf", []) + schema.get("anyOf", []):
                option = resolve(option)
                if option.get("type") == "array":
                    items = resolve(option.get("items", {}))
        split = [part for value in values for part in value.split(",") if part != ""]
        return [_scalar(v, _types(items, resolve)) for v in split]
    return _scalar(values[-1], kinds)


def _types(schema: dict, resolve) -> set[str]:
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind} if kind else set()
    for option in schema.get("oneOf", []) + schema.get("anyOf", []):
        kinds |= _types(resolve(option), resolve)
    return kinds


def _scalar(value: str, kinds: set[str]) -> Any:
    if "integer" in kinds and re.fullmatch(r"-?\d+", value):
        return int(value)
    if "number" in kinds and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value)
    if "boolean" in kinds and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _request_error(exc: Exception) -> errors.ApiError:
    """Turn an openapi-core validation error into Telnyx's 422 shape."""
    from openapi_core.templating.paths.exceptions import PathError

    if isinstance(exc, PathError):
        return errors.not_found(str(exc))
    cause = exc.__cause__
    schema_errors = list(getattr(cause, "schema_errors", None) or [])
    if schema_errors:
        first = _best(schema_errors)
        path = list(first.absolute_path)
        if first.validator == "required":
            missing = [name for name in first.validator_value if name not in (first.instance or {})]
            path = path + missing[:1]
        pointer = "/" + "/".join(str(p) for p in path)
        name = getattr(exc, "name", None)
        if name is not None:  # a parameter rather than the body
            return errors.invalid_parameter(first.message, parameter=name)
        return errors.invalid_parameter(first.message, pointer=pointer)
    name = getattr(exc, "name", None)
    detail = _describe(exc)
    return (
        errors.invalid_parameter(detail, parameter=name)
        if name
        else errors.invalid_parameter(detail)
    )


def _best(schema_errors):
    from jsonschema.exceptions import best_match

    return best_match(schema_errors) or schema_errors[0]


def _describe(exc: Exception) -> str:
    parts = [type(exc).__name__]
    cause = exc.__cause__
    if cause is not None:
        schema_errors = list(getattr(cause, "schema_errors", None) or [])
        if schema_errors:
            first = _best(schema_errors)
            where = "/".join(str(p) for p in first.absolute_path)
            parts.append(f"{where}: {first.message}" if where else first.message)
        else:
            parts.append(str(cause) or type(cause).__name__)
    elif str(exc):
        parts.append(str(exc))
    return ": ".join(parts)


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
