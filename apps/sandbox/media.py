"""Small real audio files for recordings and hold music.

Recordings must be downloadable and playable by the app (and a browser), so
the sandbox serves generated audio instead of placeholders: a sine tone as
WAV, and MPEG-1 Layer III frames of silence as MP3 (a frame whose side
information is all zero decodes to silence, which needs no encoder).
"""

from __future__ import annotations

import functools
import io
import math
import struct
import wave

_RATE = 8000  # Hz, telephone quality keeps the files tiny
# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no CRC, no padding, mono.
_MP3_HEADER = bytes([0xFF, 0xFB, 0x90, 0xC4])
_MP3_FRAME_BYTES = 144 * 128_000 // 44_100  # 417
_MP3_FRAME_SECONDS = 1152 / 44_100


@functools.lru_cache(maxsize=32)
def wav_tone(seconds: float = 1.0, channels: int = 1, frequency: float = 440.0) -> bytes:
    """A 16-bit PCM sine tone; the second channel, if any, a fifth higher so
    dual-channel recordings are audibly two sides."""
    frames = int(_RATE * max(seconds, 0.1))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(_RATE)
        samples = bytearray()
        for i in range(frames):
            for channel in range(channels):
                f = frequency * (1.5 if channel else 1.0)
                samples += struct.pack("<h", int(8000 * math.sin(2 * math.pi * f * i / _RATE)))
        wav.writeframes(bytes(samples))
    return out.getvalue()


@functools.lru_cache(maxsize=32)
def mp3_silence(seconds: float = 1.0) -> bytes:
    frame = _MP3_HEADER + bytes(_MP3_FRAME_BYTES - len(_MP3_HEADER))
    return frame * max(1, round(seconds / _MP3_FRAME_SECONDS))


def recording_seconds(duration_s: float) -> float:
    """Length of the file served for a recording: the call's length, kept
    between 1 and 5 seconds so a long demo call does not cost megabytes."""
    return round(min(max(duration_s, 1.0), 5.0), 1)
