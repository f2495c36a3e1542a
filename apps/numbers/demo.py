"""Demo numbers the sandbox owns and the simulated callers dial, plus call history for the analytics.

Tracking numbers forward to desk numbers the sandbox answers (its default
destination picks up any number). Two more numbers exist only at "Telnyx",
for the admin to import. Past calls are seeded once, so the call log and
the analytics page have something to show on first start.
"""

import random
from datetime import timedelta

from django.utils import timezone

from apps.calls.models import Call
from apps.numbers.models import PhoneNumber

MAIN_LINE = "+13125550100"
TRACKING_NUMBERS = [
    # (number, label, source, campaign, forward to, whisper, record)
    ("+13125550110", "Google Ads line", "Google Ads", "spring-sale", "+13125550190", "Call from {source}", True),
    ("+13125550111", "Billboard line", "Billboard 12", "i-90-north", "+13125550191", "", False),
    ("+13125550112", "Radio line", "Radio spot", "wxrt-morning", "+13125550190", "Radio caller", False),
]
IMPORTABLE = ["+13125550120", "+13125550121"]  # owned at Telnyx, not yet in the center
HISTORY_PREFIX = "demo-history-"
HISTORY_DAYS = 35
_NAMES = ["MARIA GARCIA", "JAMES SMITH", "LINDA NGUYEN", "ROBERT KIM", "AISHA PATEL", "WEI CHEN", "", ""]


def seed() -> list[str]:
    PhoneNumber.objects.get_or_create(
        e164=MAIN_LINE,
        defaults={
            "label": "Main line",
            "route": PhoneNumber.Route.GREETING,
            "greeting": "Thank you for calling the demo contact center. Goodbye.",
        },
    )
    lines = [f"number      {MAIN_LINE} (main line)"]
    for e164, label, source, campaign, forward_to, whisper, record in TRACKING_NUMBERS:
        PhoneNumber.objects.get_or_create(
            e164=e164,
            defaults={
                "label": label, "route": PhoneNumber.Route.FORWARD, "forward_to": forward_to,
                "tracking_source": source, "tracking_campaign": campaign, "whisper": whisper,
                "record_calls": record, "country": "US", "number_type": "local", "locality": "Chicago",
                "region": "IL", "features": ["voice", "sms"],
            },
        )
        lines.append(f"number      {e164} (tracking: {source} -> {forward_to})")
    seeded = _seed_history()
    if seeded:
        lines.append(f"history     {seeded} past calls to the tracking numbers")
    return lines


def simulated_calls() -> list[dict]:
    """Calls the demo's simulated callers may place (sandbox control API bodies)."""
    calls = [{"to": MAIN_LINE, "hangup_after_ms": 20000}]
    calls += [{"to": e164, "hangup_after_ms": 25000} for e164, *_ in TRACKING_NUMBERS]
    return calls


def sandbox_numbers() -> list[str]:
    """Numbers the sandbox account owns from the start (so they can be imported)."""
    return [MAIN_LINE, *(e164 for e164, *_ in TRACKING_NUMBERS), *IMPORTABLE]


def _seed_history() -> int:
    """About five weeks of calls to the tracking numbers, once (deterministic)."""
    if Call.objects.filter(call_control_id__startswith=HISTORY_PREFIX).exists():
        return 0
    rng = random.Random(20240601)
    numbers = {n.e164: n for n in PhoneNumber.objects.filter(e164__in=[t[0] for t in TRACKING_NUMBERS])}
    weights = {"+13125550110": 5, "+13125550111": 3, "+13125550112": 2}
    callers = [f"+1555{rng.randint(2000000, 9999999)}" for _ in range(90)]
    names = {caller: rng.choice(_NAMES) for caller in callers}
    now = timezone.now()
    starts = sorted(
        now - timedelta(days=rng.uniform(0.05, HISTORY_DAYS), hours=0) for _ in range(HISTORY_DAYS * 9)
    )
    seen: set[str] = set()
    for index, start in enumerate(starts):
        e164 = rng.choices(list(weights), weights=list(weights.values()))[0]
        number = numbers[e164]
        caller = rng.choice(callers)
        call = Call(
            call_control_id=f"{HISTORY_PREFIX}{index}", direction=Call.Direction.INBOUND, from_number=caller,
            to_number=e164, caller_name=names[caller], phone_number=number, flow="forward",
            tracking_source=number.tracking_source, tracking_campaign=number.tracking_campaign,
            destination=number.forward_to, first_time_caller=caller not in seen,
            status=Call.Status.ENDED, initiated_at=start, answered_at=start + timedelta(seconds=1),
            outcome=Call.Outcome.ANSWERED, hangup_cause="normal_clearing", hangup_source="caller",
        )
        seen.add(caller)
        _demo_outcome(call, rng)
        call.save()
    return len(starts)


def _demo_outcome(call: Call, rng: random.Random) -> None:
    ring = timedelta(seconds=rng.uniform(4, 20))
    roll = rng.random()
    if roll < 0.68:
        call.connected_at = call.answered_at + ring
        call.ended_at = call.connected_at + timedelta(seconds=rng.randint(20, 600))
    else:
        call.connect_failure = rng.choice(
            [Call.Outcome.NO_ANSWER] * 4 + [Call.Outcome.BUSY] * 2 + [Call.Outcome.ABANDONED] * 3
            + [Call.Outcome.FAILED]
        )
        call.ended_at = call.answered_at + ring + timedelta(seconds=6)
