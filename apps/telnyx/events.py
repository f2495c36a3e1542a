"""Typed webhook events: one strict pydantic model per Telnyx event type.

Handlers receive a :class:`WebhookEvent` whose ``payload`` is the model for
its ``event_type`` (fields we rely on are required and typed; anything else
Telnyx adds is kept, so new fields never break ingestion). Event types we do
not model parse as :class:`Payload`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from apps.telnyx.client_state import client_state_decode


class Payload(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    client_state: str | None = None


class CallPayload(Payload):
    call_control_id: str
    call_leg_id: str | None = None
    call_session_id: str | None = None
    connection_id: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    direction: Literal["incoming", "outgoing"] | None = None
    state: str | None = None


class CallInitiated(CallPayload):
    caller_id_name: str | None = None
    start_time: datetime | None = None


class CallHangup(CallPayload):
    hangup_cause: str | None = None
    hangup_source: str | None = None
    sip_hangup_cause: str | None = None
    start_time: datetime | None = None


class CallMediaEnded(CallPayload):
    """call.speak.ended / call.playback.ended."""

    status: str | None = None
    media_url: str | None = None


class CallDtmfReceived(CallPayload):
    digit: str


class CallGatherEnded(CallPayload):
    digits: str | None = ""
    status: str


class CallRecordingSaved(CallPayload):
    recording_id: str | None = None
    recording_urls: dict[str, str | None] = {}
    public_recording_urls: dict[str, str | None] = {}
    recording_started_at: datetime | None = None
    recording_ended_at: datetime | None = None
    channels: str | None = None


class CallEnqueued(CallPayload):
    queue: str
    current_position: int | None = None
    queue_avg_wait_time_secs: int | None = None


class CallDequeued(CallPayload):
    queue: str | None = None
    reason: str | None = None
    wait_time_secs: int | None = None


class CallMachineDetectionEnded(CallPayload):
    result: str


class CallTranscription(CallPayload):
    transcription_data: dict[str, Any] = {}


class ConferencePayload(Payload):
    conference_id: str
    call_control_id: str | None = None
    call_leg_id: str | None = None
    call_session_id: str | None = None
    connection_id: str | None = None


PAYLOAD_MODELS: dict[str, type[Payload]] = {
    "call.initiated": CallInitiated,
    "call.answered": CallPayload,
    "call.hangup": CallHangup,
    "call.bridged": CallPayload,
    "call.hold": CallPayload,
    "call.unhold": CallPayload,
    "call.speak.started": CallPayload,
    "call.speak.ended": CallMediaEnded,
    "call.playback.started": CallPayload,
    "call.playback.ended": CallMediaEnded,
    "call.dtmf.received": CallDtmfReceived,
    "call.gather.ended": CallGatherEnded,
    "call.recording.saved": CallRecordingSaved,
    "call.enqueued": CallEnqueued,
    "call.dequeued": CallDequeued,
    "call.machine.detection.ended": CallMachineDetectionEnded,
    "call.machine.greeting.ended": CallMachineDetectionEnded,
    "call.machine.premium.detection.ended": CallMachineDetectionEnded,
    "call.machine.premium.greeting.ended": CallMachineDetectionEnded,
    "call.transcription": CallTranscription,
    "conference.created": ConferencePayload,
    "conference.ended": ConferencePayload,
    "conference.participant.joined": ConferencePayload,
    "conference.participant.left": ConferencePayload,
}


class _EventData(BaseModel):
    model_config = ConfigDict(extra="allow")

    record_type: str = "event"
    event_type: str
    id: str
    occurred_at: datetime
    payload: dict[str, Any] = {}


@dataclass
class WebhookEvent:
    """A stored webhook, parsed: what every handler receives."""

    id: str
    event_type: str
    occurred_at: datetime
    payload: Payload
    record: Any = None  # the TelnyxEvent row
    client_state: dict = field(default_factory=dict)

    @property
    def call_control_id(self) -> str | None:
        return getattr(self.payload, "call_control_id", None)


def parse_event(body: dict, record=None) -> WebhookEvent:
    """Parse a webhook body; raises pydantic.ValidationError on a malformed payload."""
    data = _EventData.model_validate(body.get("data") or {})
    model = PAYLOAD_MODELS.get(data.event_type, Payload)
    payload = model.model_validate(data.payload)
    return WebhookEvent(
        id=data.id,
        event_type=data.event_type,
        occurred_at=data.occurred_at,
        payload=payload,
        record=record,
        client_state=client_state_decode(payload.client_state),
    )
