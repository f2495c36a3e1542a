"""Telnyx webhook signatures: Ed25519 over ``f"{telnyx-timestamp}|{raw body}"``."""

import base64
import binascii
import functools
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class WebhookSignatureError(Exception):
    """The delivery is not provably from Telnyx; nothing about it may be stored."""


@functools.lru_cache(maxsize=4)
def _public_key(public_key_b64: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise WebhookSignatureError("TELNYX_PUBLIC_KEY is not a base64 Ed25519 public key") from exc


def verify_signature(
    *,
    payload: bytes,
    signature: str | None,
    timestamp: str | None,
    public_key_b64: str,
    tolerance_seconds: int,
    now: float | None = None,
) -> None:
    """Raise :class:`WebhookSignatureError` unless Telnyx signed this body recently."""
    if not public_key_b64:
        raise WebhookSignatureError("TELNYX_PUBLIC_KEY is not configured")
    if not signature or not timestamp:
        raise WebhookSignatureError("missing telnyx-signature-ed25519 or telnyx-timestamp header")
    try:
        signed_at = int(timestamp)
        raw_signature = base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise WebhookSignatureError("malformed signature headers") from exc
    # A replayed old delivery must not pass: the timestamp is inside the
    # signed message, so it cannot be refreshed without the private key.
    if abs((now if now is not None else time.time()) - signed_at) > tolerance_seconds:
        raise WebhookSignatureError("timestamp outside the allowed tolerance")
    try:
        _public_key(public_key_b64).verify(raw_signature, timestamp.encode() + b"|" + payload)
    except InvalidSignature as exc:
        raise WebhookSignatureError("signature does not match") from exc
