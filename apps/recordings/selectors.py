from apps.core.roles import Role, user_can
from apps.recordings.models import Recording

# Other apps add who else may hear a recording (e.g. the agent who took the call).
_access_rules: list = []


def register_access_rule(fn):
    """``fn(user, recording) -> bool``; any rule granting access is enough."""
    _access_rules.append(fn)
    return fn


def recording_visible_to(user, recording: Recording) -> bool:
    if user_can(user, Role.SUPERVISOR):
        return True
    return any(rule(user, recording) for rule in _access_rules)


def recording_for_event(event) -> Recording | None:
    recording_id = getattr(event.payload, "recording_id", None) or event.id
    return Recording.objects.filter(telnyx_recording_id=recording_id).first()
