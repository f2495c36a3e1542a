"""Answering machine detection on answered outgoing legs, mixed into Calls.

The outcome per destination comes from ``PUT /_sandbox/amd`` (default: a
human). Timings are simulated milliseconds after the answer: detection at
``detect_ms`` (1500), the machine's greeting ending at ``greeting_ms``. The
sandbox's outcomes map onto each mode's results: for standard modes a fax is
a "machine" and silence "not_sure"; premium reports them as such. Premium
with no beep sends ``no_beep_detected`` 5 s after the greeting; detect_words
with no beep sends ``not_sure`` after its 30 s beep window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .state import Leg

if TYPE_CHECKING:
    from .engine import Engine

AMD_DETECT_MS = 1500
DEFAULT_GREETING_MS = {"machine": 3000, "fax": 2000}
_STANDARD_AMD = {
    "human": "human",
    "machine": "machine",
    "not_sure": "not_sure",
    "fax": "machine",
    "silence": "not_sure",
}
_PREMIUM_AMD = {
    "human": "human_residence",
    "human_residence": "human_residence",
    "human_business": "human_business",
    "machine": "machine",
    "fax": "fax_detected",
    "fax_detected": "fax_detected",
    "silence": "silence",
    "not_sure": "not_sure",
}


class AnsweringMachineDetection:
    e: Engine

    async def _run_amd(self, leg: Leg) -> None:
        mode, config = leg.amd["mode"], leg.amd["config"]
        outcome = {"result": "human", **self.e.amd.get(leg.to, self.e.amd.get("*", {}))}
        result = outcome["result"]
        machine = result in ("machine", "fax", "fax_detected")
        greeting_ms = float(outcome.get("greeting_ms", DEFAULT_GREETING_MS.get(result, 1000)))
        beep = bool(outcome.get("beep", machine)) and machine
        detect_ms = float(outcome.get("detect_ms", AMD_DETECT_MS))
        total = config.get("total_analysis_time_millis")
        if total is not None and detect_ms > total:
            detect_ms, result, machine, beep = float(total), "not_sure", False, False
        plan: list[tuple[float, str, str]] = []
        if mode == "premium":
            plan.append(
                (
                    detect_ms,
                    "call.machine.premium.detection.ended",
                    _PREMIUM_AMD.get(result, "not_sure"),
                )
            )
            if machine:
                plan.append(
                    (greeting_ms, "call.machine.premium.greeting.ended", "beep_detected")
                    if beep
                    else (
                        greeting_ms + 5000,
                        "call.machine.premium.greeting.ended",
                        "no_beep_detected",
                    )
                )
        else:
            plan.append(
                (detect_ms, "call.machine.detection.ended", _STANDARD_AMD.get(result, "not_sure"))
            )
            if machine and mode == "greeting_end":
                plan.append((max(greeting_ms, detect_ms), "call.machine.greeting.ended", "ended"))
            elif machine and mode in ("detect_beep", "detect_words") and beep:
                plan.append(
                    (max(greeting_ms, detect_ms), "call.machine.greeting.ended", "beep_detected")
                )
            elif machine and mode == "detect_words":
                plan.append((detect_ms + 30_000, "call.machine.greeting.ended", "not_sure"))
        leg.amd["result"] = result
        elapsed = 0.0
        for at_ms, event_type, value in sorted(plan, key=lambda item: item[0]):
            await self.e.sleep(at_ms - elapsed)
            elapsed = at_ms
            self.e.emit_leg(leg, event_type, {"result": value})
