"""Build and sign Telnyx webhook deliveries the way Telnyx does, for tests."""

import base64
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

T0 = datetime(2026, 11, 21, 12, 0, 0, tzinfo=timezone.utc)


@dataclass
class KeyPair:
    private: Ed25519PrivateKey
    public_b64: str

    @classmethod
    def generate(cls) -> "KeyPair":
        private = Ed25519PrivateKey.generate()
        raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cls(private, base64.b64encode(raw).decode())

    def headers(self, body: bytes, timestamp: int | None = None) -> dict:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = self.private.sign(ts.encode() + b"|" + body)
        return {
            "HTTP_TELNYX_SIGNATURE_ED25519": base64.b64encode(signature).decode(),
            "HTTP_TELNYX_TIMESTAMP": ts,
        }


def call_event(event_type: str, call_control_id: str, *, at: datetime | None = None, event_id: str | None = None,
               **payload) -> dict:
    """A webhook body for a call leg; ``at`` is the event's occurred_at."""
    base = {
        "call_control_id": call_control_id,
        "call_leg_id": f"leg-{call_control_id}",
        "call_session_id": f"session-{call_control_id}",
        "connection_id": "1494404757140276705",
        "from": "+15551230001",
        "to": "+13125550100",
        "direction": "incoming",
        "state": "parked",
    }
    base.update(payload)
    return {
        "data": {
            "record_type": "event",
            "event_type": event_type,
            "id": event_id or str(uuid.uuid4()),
            "occurred_at": (at or T0).isoformat().replace("+00:00", "Z"),
            "payload": base,
        },
        "meta": {"attempt": 1, "delivered_to": "http://testserver/webhooks/telnyx/"},
    }


def call_lifecycle(call_control_id: str, *, answered: bool = True) -> list[dict]:
    """initiated, (answered,) hangup: one second apart, in true order."""
    events = [call_event("call.initiated", call_control_id, at=T0)]
    if answered:
        events.append(call_event("call.answered", call_control_id, at=T0 + timedelta(seconds=1)))
    events.append(
        call_event(
            "call.hangup", call_control_id, at=T0 + timedelta(seconds=31),
            hangup_cause="normal_clearing", hangup_source="caller", sip_hangup_cause="200", state="hangup",
        )
    )
    return events


def encode(body: dict) -> bytes:
    return json.dumps(body).encode()
