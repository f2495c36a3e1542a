"""Ed25519 webhook signing, the way Telnyx signs its webhooks.

Telnyx signs ``f"{telnyx-timestamp}|{raw body}"`` with its private key and
shows the public key in the portal as base64 of the 32 raw bytes. The sandbox
does the same with a key pair of its own, so the app's verification code runs
unchanged against it.
"""

from __future__ import annotations

import base64
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

_RAW = serialization.Encoding.Raw


class Signer:
    """Holds one key pair and signs webhook bodies with it."""

    def __init__(self, private_key_b64: str | None = None):
        if private_key_b64:
            raw = base64.b64decode(private_key_b64, validate=True)
            self._key = Ed25519PrivateKey.from_private_bytes(raw)
        else:
            self._key = Ed25519PrivateKey.generate()

    @property
    def private_key_b64(self) -> str:
        raw = self._key.private_bytes(
            _RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return base64.b64encode(raw).decode()

    @property
    def public_key_b64(self) -> str:
        raw = self._key.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """The two signature headers for ``body``, signed now (or at ``timestamp``)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._key.sign(stamp.encode() + b"|" + body)
        return {
            "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
            "telnyx-timestamp": stamp,
        }


def generate_private_key_b64() -> str:
    """A fresh private key, e.g. to pin in SANDBOX_PRIVATE_KEY for a demo."""
    return Signer().private_key_b64
