"""Demo numbers the sandbox owns and the simulated callers dial."""

from apps.numbers.models import PhoneNumber

MAIN_LINE = "+13125550100"


def seed() -> list[str]:
    PhoneNumber.objects.get_or_create(
        e164=MAIN_LINE,
        defaults={
            "label": "Main line",
            "route": PhoneNumber.Route.GREETING,
            "greeting": "Thank you for calling the demo contact center. Goodbye.",
        },
    )
    return [f"number      {MAIN_LINE} (main line)"]


def simulated_calls() -> list[dict]:
    """Calls the demo's simulated callers may place (sandbox control API bodies)."""
    return [{"to": MAIN_LINE, "hangup_after_ms": 20000}]


def sandbox_numbers() -> list[str]:
    """Numbers the sandbox account owns from the start (so they can be imported)."""
    return [MAIN_LINE]
