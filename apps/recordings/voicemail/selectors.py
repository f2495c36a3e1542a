from django.db.models import Count, Q, QuerySet

from apps.core.roles import Role, user_can
from apps.recordings.models import Recording, Voicemail, VoicemailBox
from apps.recordings.selectors import register_access_rule


def voicemail_boxes() -> QuerySet[VoicemailBox]:
    """Every box with its message counts. Agents and supervisors see them all for now
    (queue membership, when queues have members, can narrow this)."""
    return VoicemailBox.objects.select_related("ivr", "queue").annotate(
        new_count=Count("messages", filter=Q(messages__status=Voicemail.Status.NEW)),
        total_count=Count("messages"),
    )


def voicemail_list(*, box: VoicemailBox, status: str = "") -> QuerySet[Voicemail]:
    qs = box.messages.select_related("recording", "handled_by", "box").prefetch_related("callbacks")
    return qs.filter(status=status) if status else qs


def voicemail_user_may_act(user) -> bool:
    return user_can(user, Role.AGENT) or user_can(user, Role.SUPERVISOR)


@register_access_rule
def voicemail_audible_to(user, recording: Recording) -> bool:
    """Agents may play voicemails (supervisors may play every recording anyway)."""
    return recording.purpose == "voicemail" and user_can(user, Role.AGENT)
