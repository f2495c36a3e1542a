from django.db.models import Count, Q, QuerySet

from apps.core.roles import Role, user_can
from apps.recordings.models import Recording, Voicemail, VoicemailBox
from apps.recordings.selectors import register_access_rule


def voicemail_boxes(user=None) -> QuerySet[VoicemailBox]:
    """The boxes ``user`` may work, with their message counts (every box without a user).

    Supervisors and admins see every box. An agent sees the boxes of the
    queues they answer and the IVRs' boxes (an IVR has no members: whoever
    takes calls may return them); another queue's callers are not theirs.
    """
    boxes = VoicemailBox.objects.select_related("ivr", "queue").annotate(
        new_count=Count("messages", filter=Q(messages__status=Voicemail.Status.NEW)),
        total_count=Count("messages"),
    )
    if user is None or user_can(user, Role.SUPERVISOR):
        return boxes
    from apps.queues.models import QueueMember

    theirs = QueueMember.objects.filter(agent__user=user).values("queue_id")
    return boxes.filter(Q(queue__isnull=True) | Q(queue__in=theirs))


def voicemail_for(user, pk: int) -> Voicemail | None:
    """One message, if it is in a box ``user`` may work."""
    return Voicemail.objects.select_related("box").filter(pk=pk, box__in=voicemail_boxes(user).values("pk")).first()


def voicemail_list(*, box: VoicemailBox, status: str = "") -> QuerySet[Voicemail]:
    qs = box.messages.select_related("recording", "handled_by", "box").prefetch_related("callbacks")
    return qs.filter(status=status) if status else qs


def voicemail_user_may_act(user) -> bool:
    return user_can(user, Role.AGENT) or user_can(user, Role.SUPERVISOR)


@register_access_rule
def voicemail_audible_to(user, recording: Recording) -> bool:
    """Agents may play the voicemails of their boxes (supervisors may play every recording anyway)."""
    if recording.purpose != "voicemail" or not user_can(user, Role.AGENT):
        return False
    return Voicemail.objects.filter(recording=recording, box__in=voicemail_boxes(user).values("pk")).exists()
