"""Prompts: what a caller hears, as text-to-speech (plain or SSML) or an audio file.

A prompt is plain data stored on a node::

    {"type": "tts", "text": "Press 1 for sales.", "voice": "", "language": ""}
    {"type": "audio", "url": "https://example.com/menu.mp3"}

Text that starts with ``<`` is SSML and must be well-formed XML with a
``<speak>`` root (Telnyx's SSML page); it is sent with ``payload_type: ssml``.

Voice and language: an empty voice uses the flow's, then
``TELNYX_DEFAULT_VOICE``; an empty language the flow's. Telnyx takes a
language only with the basic ``male``/``female`` voices, while a named voice
(Telnyx.KokoroTTS.af, Polly.Amy...) speaks its own. So a prompt in a language
with no voice chosen is spoken by the female voice when the default voice does
not speak that language; a prompt that names its own voice speaks that voice's
language (the flow's language is not forced on it); and a language paired with
a named voice that cannot speak it is refused when the flow is saved (see
:func:`language_problem`), instead of being dropped on the call.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from xml.etree import ElementTree

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from apps.calls.services import BASIC_VOICES, speak_body, voice_language

# The ``language`` values Telnyx's spec allows on speak / gather_using_speak.
LANGUAGES = (
    "arb", "cmn-CN", "cy-GB", "da-DK", "de-DE", "en-AU", "en-GB", "en-GB-WLS", "en-IN", "en-US",
    "es-ES", "es-MX", "es-US", "fr-CA", "fr-FR", "hi-IN", "is-IS", "it-IT", "ja-JP", "ko-KR",
    "nb-NO", "nl-NL", "pl-PL", "pt-BR", "pt-PT", "ro-RO", "ru-RU", "sv-SE", "tr-TR",
)
# "male"/"female", or Provider.Model.Voice as on Telnyx's TTS page
# (Telnyx.KokoroTTS.af, Polly.Amy-Neural, Azure.en-CA-ClaraNeural...).
_VOICE = re.compile(r"^(male|female|[A-Za-z][A-Za-z0-9]*\.[A-Za-z0-9_.:\-]+)$")
SSML_NAMESPACE = "{http://www.w3.org/2001/10/synthesis}"
MAX_TEXT = 3000


def tts(text: str, voice: str = "", language: str = "") -> dict:
    return {"type": "tts", "text": text, "voice": voice, "language": language}


def audio(url: str) -> dict:
    return {"type": "audio", "url": url}


def is_ssml(text: str) -> bool:
    return text.lstrip().startswith("<")


def prompt_problems(prompt, field: str = "prompt") -> list[tuple[str, str]]:
    """``(field, message)`` for everything wrong with a prompt."""
    if not isinstance(prompt, dict):
        return [(field, "must be a text-to-speech or audio prompt")]
    kind = prompt.get("type")
    if kind == "audio":
        return _audio_problems(prompt, field)
    if kind == "tts":
        return _tts_problems(prompt, field)
    return [(f"{field}.type", "must be 'tts' or 'audio'")]


def _audio_problems(prompt: dict, field: str) -> list[tuple[str, str]]:
    url = str(prompt.get("url") or "")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return [(f"{field}.url", "give the http(s) URL of an mp3 or wav file")]
    return []


def _tts_problems(prompt: dict, field: str) -> list[tuple[str, str]]:
    problems = []
    text = str(prompt.get("text") or "")
    if not text.strip():
        problems.append((f"{field}.text", "say something: the text is empty"))
    elif len(text) > MAX_TEXT:
        problems.append((f"{field}.text", f"keep it under {MAX_TEXT} characters"))
    elif is_ssml(text):
        problems += [(f"{field}.text", m) for m in ssml_problems(text)]
    voice = str(prompt.get("voice") or "")
    if voice and not _VOICE.match(voice):
        problems.append((f"{field}.voice", f"{voice!r} is not a Telnyx voice (e.g. female, Telnyx.KokoroTTS.af)"))
    language = str(prompt.get("language") or "")
    if language and language not in LANGUAGES:
        problems.append((f"{field}.language", f"{language!r} is not a language Telnyx speaks"))
    return problems


def ssml_problems(text: str) -> list[str]:
    try:
        root = ElementTree.fromstring(text.strip())
    except ElementTree.ParseError as exc:
        return [f"the SSML is not well-formed XML ({exc})"]
    if root.tag not in ("speak", f"{SSML_NAMESPACE}speak"):
        return [f"SSML must have a <speak> root, not <{root.tag}>"]
    return []


def prompt_clean(prompt: dict | None) -> dict | None:
    """Only the fields of the prompt's type, trimmed (what is stored)."""
    if not prompt:
        return None
    if prompt.get("type") == "audio":
        return audio(str(prompt.get("url") or "").strip())
    return tts(str(prompt.get("text") or "").strip(), str(prompt.get("voice") or "").strip(),
               str(prompt.get("language") or "").strip())


def play_command(prompt: dict, *, voice: str = "", language: str = "") -> tuple[str, dict]:
    """``(action, body)`` that plays the prompt once: speak or playback_start."""
    if prompt["type"] == "audio":
        body = {"audio_url": prompt["url"]}
        # playback_start takes the file for an mp3 unless told otherwise
        # (audio_type defaults to mp3); gather_using_audio has no such field.
        if audio_type := audio_type_of(prompt["url"]):
            body["audio_type"] = audio_type
        return "playback_start", body
    return "speak", _speak(prompt, voice, language)


def audio_type_of(url: str) -> str:
    """``wav`` or ``mp3`` from the file name in the URL ("" when it does not say)."""
    name = urlsplit(url).path.lower()
    return next((kind for kind in ("wav", "mp3") if name.endswith(f".{kind}")), "")


def gather_command(prompt: dict, gather: dict, *, voice: str = "", language: str = "") -> tuple[str, dict]:
    """``(action, body)`` that plays the prompt and collects keys: gather_using_speak / _audio."""
    if prompt["type"] == "audio":
        return "gather_using_audio", {"audio_url": prompt["url"], **gather}
    return "gather_using_speak", {**_speak(prompt, voice, language), **gather}


def prompt_voice(prompt: dict, *, voice: str = "", language: str = "") -> tuple[str, str]:
    """``(voice, language)`` a text prompt is spoken in, given the flow's ("" = the defaults)."""
    own = str(prompt.get("voice") or "")
    if own and own not in BASIC_VOICES:
        return own, str(prompt.get("language") or "")  # its own voice, in that voice's language
    return own or voice, str(prompt.get("language") or "") or language


def language_problem(voice: str, language: str) -> str:
    """Why ``voice`` would not speak ``language`` ("" when it would, or nothing is asked)."""
    if not voice or not language or voice in BASIC_VOICES:
        return ""  # no voice: the default one, or the female voice where the default does not speak it
    spoken = voice_language(voice)
    if spoken == language:
        return ""
    speaks = f"speaks {spoken}" if spoken else "speaks only its own language"
    return (f"the voice {voice} {speaks}, so the language {language} would not be heard: choose the female or "
            f"male voice (they speak {language}), a voice of that language, or no language")


def _speak(prompt: dict, voice: str, language: str) -> dict:
    voice, language = prompt_voice(prompt, voice=voice, language=language)
    body = speak_body(text=prompt["text"].strip(), voice=voice or None, language=language or None)
    if is_ssml(prompt["text"]):
        body["payload_type"] = "ssml"  # also when the root carries a namespace prefix
    return body


def prompt_summary(prompt: dict | None) -> str:
    if not prompt:
        return ""
    if prompt.get("type") == "audio":
        return f"audio {prompt.get('url', '')}"
    return str(prompt.get("text", ""))
