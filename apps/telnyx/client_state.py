"""``client_state``: flow context that rides from a command to the webhooks it causes.

Telnyx carries an opaque base64 string; we put compact JSON in it. Keep it
small: it travels on every webhook of the leg, and Telnyx bounds its size.
"""

import base64
import binascii
import json
import logging

logger = logging.getLogger(__name__)

# Conservative bound on the encoded string (Telnyx rejects overly long client_state).
MAX_ENCODED_LENGTH = 4096


class ClientStateTooLarge(ValueError):
    pass


def client_state_encode(state: dict) -> str:
    """Base64 of compact JSON; raises :class:`ClientStateTooLarge` past the bound."""
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    encoded = base64.b64encode(raw).decode()
    if len(encoded) > MAX_ENCODED_LENGTH:
        raise ClientStateTooLarge(f"client_state is {len(encoded)} characters; the limit is {MAX_ENCODED_LENGTH}")
    return encoded


def client_state_decode(encoded: str | None) -> dict:
    """The dict we encoded, or ``{}`` for anything else (absent, foreign, corrupt)."""
    if not encoded:
        return {}
    try:
        value = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        logger.info("ignoring client_state that is not ours: %.40s", encoded)
        return {}
    return value if isinstance(value, dict) else {}
