"""Demo IVR: the main line answers with business hours in front of a two-level menu.

Runs after ``apps.numbers.demo`` (INSTALLED_APPS order), which creates the
main line; this turns its greeting route into the "Main menu" IVR. A number an
admin already pointed elsewhere is left alone.
"""

from apps.ivr.models import IvrFlow
from apps.ivr.prompts import tts
from apps.ivr.services import ivr_flow_create, ivr_flow_number_assign
from apps.numbers.demo import MAIN_LINE
from apps.numbers.models import PhoneNumber
from apps.queues.models import Queue

FLOW_NAME = "Main menu"
QUEUES = ("Sales", "Billing", "Technical support")
# Open every day 07:00-22:00 Chicago time, so the demo mostly hears the menu.
HOURS = {
    "timezone": "America/Chicago",
    "weekly": {day: [["07:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "holidays": ["2026-12-25", "2027-01-01"],
}


def seed() -> list[str]:
    queues = {name: Queue.objects.get_or_create(name=name)[0] for name in QUEUES}
    flow = IvrFlow.objects.filter(name=FLOW_NAME).first() or ivr_flow_create(**_main_menu(queues))
    number = PhoneNumber.objects.filter(e164=MAIN_LINE).first()
    if number is not None and number.route == PhoneNumber.Route.GREETING:
        ivr_flow_number_assign(flow=flow, number=number)
    return [f"ivr         {FLOW_NAME} on {MAIN_LINE} (queues: {', '.join(QUEUES)})"]


def _main_menu(queues: dict) -> dict:
    def queue(key, name, queue_name):
        prompt = tts(f"Please hold for the next available {name.lower()} agent.")
        return {"key": key, "kind": "queue", "name": name, "prompt": prompt, "queue": queues[queue_name].pk}

    return {
        "name": FLOW_NAME,
        "description": "The demo main line: business hours, then sales, support (billing, technical), voicemail, operator.",
        "entry": "hours",
        "fallback": "voicemail",
        "max_steps": 50,
        "nodes": [
            {"key": "hours", "kind": "hours", "name": "Business hours", "hours": HOURS,
             "open": "main", "closed": "closed"},
            {"key": "main", "kind": "menu", "name": "Main menu",
             "prompt": tts("Thank you for calling the demo contact center. For sales, press 1. For support, press 2. "
                           "To leave a message, press 3. For the operator, press 0."),
             "options": [
                 {"digits": "1", "speech": "sales", "next": "sales"},
                 {"digits": "2", "speech": "support, help", "next": "support"},
                 {"digits": "3", "speech": "message, voicemail", "next": "voicemail"},
                 {"digits": "0", "speech": "operator", "next": "operator"},
             ],
             "timeout_secs": 5, "max_tries": 3, "speech": False, "fallback": "operator"},
            {"key": "support", "kind": "menu", "name": "Support",
             "prompt": tts("For billing, press 1. For technical support, press 2. To go back, press 9."),
             "options": [
                 {"digits": "1", "speech": "billing", "next": "billing"},
                 {"digits": "2", "speech": "technical", "next": "technical"},
                 {"digits": "9", "speech": "back", "next": "main"},
             ],
             "timeout_secs": 5, "max_tries": 3, "fallback": "voicemail"},
            queue("sales", "Sales", "Sales"),
            queue("billing", "Billing", "Billing"),
            queue("technical", "Technical support", "Technical support"),
            {"key": "voicemail", "kind": "voicemail", "name": "Voicemail", "max_length_secs": 120, "finish_key": "#"},
            {"key": "operator", "kind": "forward", "name": "Operator",
             "prompt": tts("Transferring you to the operator."),
             "to": "sip:operator@sandbox.telnyx.com", "timeout_secs": 30, "no_answer": "voicemail"},
            {"key": "closed", "kind": "message", "name": "Closed",
             "prompt": tts("Thank you for calling. We are closed right now: we are open every day from seven in the "
                           "morning to ten at night, central time."),
             "next": "voicemail"},
        ],
    }


def simulated_calls() -> list[dict]:
    """Callers who walk the menus (each dtmf_script entry answers one menu prompt)."""
    calls = [
        {"dtmf_script": ["1"], "hangup_after_ms": 30000},  # sales
        {"dtmf_script": ["2", "1"], "hangup_after_ms": 30000},  # support > billing
        {"dtmf_script": ["2", "2"], "hangup_after_ms": 30000},  # support > technical
        {"dtmf_script": ["2", "9", "1"], "hangup_after_ms": 30000},  # support, back, sales
        {"dtmf_script": ["3"], "hangup_after_ms": 25000},  # leaves a voicemail
        {"dtmf_script": ["0"], "hangup_after_ms": 20000},  # operator
        {"dtmf_script": ["7", "8", "9"], "hangup_after_ms": 20000},  # wrong keys: the fallback
    ]
    return [{"to": MAIN_LINE, **call} for call in calls]
