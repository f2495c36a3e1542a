"""What the live socket shows about calls on connect."""

from apps.calls.messages import call_summary
from apps.calls.selectors import calls_live
from apps.core.realtime import register_snapshot_provider
from apps.core.roles import Role, user_can


@register_snapshot_provider
def calls_snapshot(user) -> dict:
    if not user_can(user, Role.SUPERVISOR):
        return {}
    return {"calls": [call_summary(call) for call in calls_live()]}
