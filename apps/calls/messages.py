"""The shape of every live message about calls, built in one place."""

from apps.calls.models import Call


def call_summary(call: Call) -> dict:
    return {
        "id": call.pk,
        "call_control_id": call.call_control_id,
        "direction": call.direction,
        "from": call.from_number,
        "to": call.to_number,
        "caller_name": call.caller_name,
        "status": call.status,
        "status_label": call.get_status_display(),
        "outcome": call.outcome,
        "flow": call.flow,
        "initiated_at": call.initiated_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "hangup_cause": call.hangup_cause,
        "version": call.version,
    }


class CallMessages:
    @staticmethod
    def call_updated(call: Call) -> dict:
        return {"type": "call.updated", "version": call.version, "call": call_summary(call)}
