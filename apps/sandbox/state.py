"""The sandbox's in-memory world: plain records, no behaviour."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with microseconds and Z, as in Telnyx's ``occurred_at``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else None


def new_call_control_id() -> str:
    # Telnyx's ids look like "v3:<url-safe base64>"; apps must treat them as
    # opaque strings, and the colon checks that they do (URLs, cache keys).
    return "v3:" + base64.urlsafe_b64encode(os.urandom(30)).decode().rstrip("=")


def new_uuid() -> str:
    return str(uuid.uuid4())


# --- configuration -----------------------------------------------------------


@dataclass
class Faults:
    duplicate_rate: float = 0.0  # 0..1: share of webhooks delivered twice
    reorder_window_ms: float = 0.0  # hold each delivery 0..window ms, unordered
    command_5xx_rate: float = 0.0  # 0..1: share of commands answered 500
    command_5xx_first_attempts: int = 0  # first N attempts of each command_id get 500
    # Comma-separated commands ("speak,transfer", or "call.speak", "dial") that
    # are always refused with 422 "Unable to execute command": a permanent
    # failure, as when Telnyx will not apply a command to a live call.
    command_422_actions: str = ""
    api_latency_ms: float = 0.0  # added to every /v2 answer (real ms)
    webhook_delay_ms: float = 0.0  # added before every delivery (real ms)


_FAULT_LIMITS = {"duplicate_rate": (0, 1), "command_5xx_rate": (0, 1)}


@dataclass
class Config:
    webhook_url: str | None = None
    time_scale: float = 1.0
    seed: int = 0
    connection_id: str = "sandbox-connection"
    faults: Faults = field(default_factory=Faults)
    webhook_max_attempts: int = 5
    webhook_retry_base_ms: float = 1000.0
    webhook_timeout_ms: float = 10_000.0
    validate_webhooks: bool = True
    validate_responses: bool = True
    # What happens to a leg whose bridge peer hangs up (see calls.py).
    unbridge_behavior: str = "hangup"
    default_ring_ms: float = 1000.0
    number_order_delay_ms: float = 1500.0

    def as_dict(self, spec_loaded: bool) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "faults"}
        data["faults"] = {f.name: getattr(self.faults, f.name) for f in fields(self.faults)}
        data["spec_loaded"] = spec_loaded
        return data

    def update(self, changes: dict) -> None:
        """Apply a partial update; raise ValueError on anything unknown or out of range."""
        changes = dict(changes)
        changes.pop("spec_loaded", None)  # read-only, tolerated so GET output can be PUT back
        for name, value in (changes.pop("faults", None) or {}).items():
            _set_checked(self.faults, name, value, _FAULT_LIMITS.get(name, (0, None)))
        for name, value in changes.items():
            if name == "unbridge_behavior" and value not in ("park", "hangup"):
                raise ValueError("unbridge_behavior must be 'park' or 'hangup'")
            limits = (None, None) if name in ("webhook_url", "connection_id", "seed") else (0, None)
            if name == "time_scale" and (not isinstance(value, (int, float)) or value <= 0):
                raise ValueError("time_scale must be a positive number")
            _set_checked(self, name, value, limits)


def _set_checked(target: Any, name: str, value: Any, limits: tuple) -> None:
    known = {f.name: f for f in fields(target)}
    if name not in known or name == "faults":
        raise ValueError(f"unknown setting {name!r}")
    current = getattr(target, name)
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be a boolean")
    elif isinstance(current, (int, float)) and not isinstance(current, bool):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError(f"{name} must be a number")
        low, high = limits
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{name} must be between {low} and {high}")
        value = (
            type(current)(value)
            if isinstance(current, int) and float(value).is_integer()
            else value
        )
    elif value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    setattr(target, name, value)


# --- calls -------------------------------------------------------------------


@dataclass(eq=False)
class Gather:
    kind: str  # "speak" | "audio" | "plain"
    params: dict
    client_state: str | None
    digits: asyncio.Queue = field(default_factory=asyncio.Queue)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # a key was pressed
    collected: str = ""
    task: asyncio.Task | None = None


@dataclass(eq=False)
class Recording:
    id: str
    call_control_id: str
    call_leg_id: str
    call_session_id: str
    connection_id: str
    from_: str
    to: str
    format: str
    channels: str
    started_at: datetime
    ended_at: datetime | None = None
    paused_at: datetime | None = None
    paused_seconds: float = 0.0
    client_state: str | None = None
    call_started_at: datetime | None = None
    conference_id: str | None = None
    timer: asyncio.Task | None = None

    @property
    def duration_seconds(self) -> float:
        end = self.ended_at or utcnow()
        return max(0.0, (end - self.started_at).total_seconds() - self.paused_seconds)


@dataclass(eq=False)
class Leg:
    call_control_id: str
    call_leg_id: str
    call_session_id: str
    connection_id: str
    direction: str  # "incoming" | "outgoing"
    from_: str
    to: str
    created_at: datetime = field(default_factory=utcnow)
    caller_id_name: str | None = None
    status: str = "initiated"  # initiated (parked / ringing) -> answered -> ended
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: str | None = None
    hangup_source: str | None = None
    client_state: str | None = None
    webhook_url: str | None = None
    # What the leg hears from the platform: {"kind": "speak"|"audio", ...}.
    media: dict | None = None
    media_task: asyncio.Task | None = None
    media_client_state: str | None = None
    media_queue: list[dict] = field(default_factory=list)  # speak/playback waiting their turn
    gather: Gather | None = None
    queue_name: str | None = None
    enqueued_at: datetime | None = None
    bridged_with: str | None = None
    bridge_kind: str | None = None  # "bridge" | "transfer"
    park_after_unbridge: bool = False
    transfer_to: str | None = None  # ringing leg created by a transfer of this leg
    transfer_from: str | None = None
    link_to: str | None = None
    bridge_on_answer: bool = False
    conference_id: str | None = None
    recording: Recording | None = None
    recording_ids: list[str] = field(default_factory=list)
    transcribing: bool = False
    commands: list[dict] = field(default_factory=list)
    webhooks: list[dict] = field(default_factory=list)
    dtmf_sent: list[dict] = field(default_factory=list)
    dtmf_received: list[str] = field(default_factory=list)
    dtmf_script: list[str] = field(default_factory=list)
    speech_script: list[str] = field(default_factory=list)
    hangup_after_ms: float | None = None
    destination: dict | None = None  # how a dialled destination behaves
    amd: dict | None = None  # {"mode": ..., "config": {...}, "result": ...}
    record_on_answer: dict | None = None
    send_digits_on_answer: str | None = None
    time_limit_secs: int | None = None
    ring_task: asyncio.Task | None = None
    tasks: set = field(default_factory=set)

    @property
    def alive(self) -> bool:
        return self.status != "ended"

    @property
    def answered(self) -> bool:
        return self.status == "answered"


@dataclass(eq=False)
class Queue:
    name: str
    id: str = field(default_factory=new_uuid)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    max_size: int = 100
    calls: list[str] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    def average_wait(self) -> int:
        return int(sum(self.waits) / len(self.waits)) if self.waits else 0


# --- conferences -------------------------------------------------------------


@dataclass(eq=False)
class Participant:
    id: str
    call_control_id: str
    call_leg_id: str
    call_session_id: str
    conference_id: str
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    status: str = "joined"
    muted: bool = False
    on_hold: bool = False
    supervisor_role: str = "none"
    whisper_call_control_ids: list[str] = field(default_factory=list)
    end_conference_on_exit: bool = False
    soft_end_conference_on_exit: bool = False
    client_state: str | None = None


@dataclass(eq=False)
class Conference:
    id: str
    name: str
    connection_id: str
    creator_call_session_id: str
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    expires_at: datetime | None = None
    status: str = "in_progress"  # init | in_progress | completed
    region: str = "US"
    end_reason: str | None = None
    ended_by: dict | None = None
    beep_enabled: str = "never"
    hold_audio_url: str | None = None
    max_participants: int = 250
    participants: dict[str, Participant] = field(default_factory=dict)  # ccid -> present ones
    past_participants: list[Participant] = field(default_factory=list)
    media: dict | None = None  # conference-wide speak/play, with its targets
    media_task: asyncio.Task | None = None
    timer: asyncio.Task | None = None


# --- numbers -----------------------------------------------------------------


@dataclass(eq=False)
class InventoryNumber:
    phone_number: str
    country_code: str  # ISO alpha-2
    national_destination_code: str
    subscriber: str  # digits after the NDC
    national_number: str  # digits after the country calling code
    locality: str | None
    administrative_area: str | None
    rate_center: str | None
    phone_number_type: str
    features: list[str]
    quickship: bool
    monthly_cost: str
    upfront_cost: str
    currency: str


@dataclass(eq=False)
class PhoneNumber:
    id: str
    phone_number: str
    country_iso_alpha2: str
    phone_number_type: str
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    purchased_at: datetime = field(default_factory=utcnow)
    status: str = "active"
    connection_id: str | None = None
    customer_reference: str | None = None
    billing_group_id: str | None = None
    external_pin: str | None = None
    tags: list[str] = field(default_factory=list)
    hd_voice_enabled: bool = False
    source_type: str = "number_order"


@dataclass(eq=False)
class NumberOrder:
    id: str
    numbers: list[dict]  # {"id", "phone_number", "status", "inventory": InventoryNumber}
    connection_id: str | None
    customer_reference: str | None
    messaging_profile_id: str | None
    billing_group_id: str | None
    status: str = "pending"
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
