"""Flow documents for the IVR tests (what an admin would build)."""

from apps.ivr.models import IvrFlow
from apps.ivr.prompts import tts
from apps.ivr.services import ivr_flow_create, ivr_flow_number_assign
from apps.numbers.models import PhoneNumber

MAIN_PROMPT = "Main menu. For sales press 1. For support press 2. To leave a message press 3. For the desk press 0."
SUPPORT_PROMPT = "Support. For billing press 1. For technical support press 2."
INVALID_PROMPT = "That key is not on the menu."
TIMEOUT_PROMPT = "I did not hear a key."
SORRY = "Sorry we could not help you. Goodbye."
CLOSED = "We are closed. Please call again tomorrow."
HOURS_CHICAGO = {
    "timezone": "America/Chicago",
    "weekly": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-12-25"],
}


def menu(key, prompt, options, fallback, *, say: dict | None = None, **extra) -> dict:
    """A menu node; ``say`` maps digits to the phrases that also choose them."""
    say = say or {}
    return {
        "key": key, "kind": "menu", "name": key.title(), "prompt": tts(prompt),
        "options": [{"digits": d, "next": n, "speech": say.get(d, "")} for d, n in options],
        "fallback": fallback, "invalid_prompt": tts(INVALID_PROMPT), "timeout_prompt": tts(TIMEOUT_PROMPT),
        "timeout_secs": 3, "max_tries": 3, **extra,
    }


def two_level(queues: dict, *, entry: str = "main", extra_nodes: list | None = None, **flow) -> dict:
    """Main menu (1 sales, 2 support sub-menu, 3 voicemail, 0 desk) with a fallback message."""
    nodes = [
        menu("main", MAIN_PROMPT, [("1", "sales"), ("2", "support"), ("3", "vm"), ("0", "desk")], "sorry"),
        menu("support", SUPPORT_PROMPT, [("1", "billing"), ("2", "technical")], "sorry"),
        {"key": "sales", "kind": "queue", "name": "Sales", "queue": queues["Sales"].pk},
        {"key": "billing", "kind": "queue", "name": "Billing", "queue": queues["Billing"].pk},
        {"key": "technical", "kind": "queue", "name": "Technical", "queue": queues["Technical"].pk},
        {"key": "vm", "kind": "voicemail", "name": "Voicemail", "max_length_secs": 60, "finish_key": "#"},
        {"key": "desk", "kind": "forward", "name": "Desk", "to": "sip:desk@sandbox.telnyx.com", "timeout_secs": 10,
         "no_answer": "vm"},
        {"key": "sorry", "kind": "message", "name": "Sorry", "prompt": tts(SORRY), "next": ""},
        {"key": "hours", "kind": "hours", "name": "Hours", "hours": HOURS_CHICAGO, "open": "main", "closed": "closed"},
        {"key": "closed", "kind": "message", "name": "Closed", "prompt": tts(CLOSED), "next": ""},
        *(extra_nodes or []),
    ]
    return {"name": "Test IVR", "entry": entry, "fallback": "sorry", "max_steps": 50, "nodes": nodes, **flow}


def install(document: dict, number: str) -> IvrFlow:
    """Save the flow and route ``number`` to it."""
    flow = ivr_flow_create(**document)
    phone, _ = PhoneNumber.objects.get_or_create(e164=number, defaults={"label": "IVR line"})
    ivr_flow_number_assign(flow=flow, number=phone)
    return flow
