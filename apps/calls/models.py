"""Call legs as Telnyx reports them, and each leg's event log."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Call(models.Model):
    """One Telnyx call leg, keyed by its ``call_control_id``.

    Times come from the webhooks' ``occurred_at``, not from when we processed
    them, so a record is right even when events arrive late or out of order.
    """

    class Direction(models.TextChoices):
        INBOUND = "inbound"
        OUTBOUND = "outbound"

    class Status(models.TextChoices):
        INITIATED = "initiated", "Ringing"
        ANSWERED = "answered", "In progress"
        ENDED = "ended", "Ended"

    class Outcome(models.TextChoices):
        ANSWERED = "answered"
        NO_ANSWER = "no_answer", "No answer"
        BUSY = "busy"
        FAILED = "failed"
        ABANDONED = "abandoned"
        REJECTED = "rejected"

    # The only moves the state machine makes; anything else is ignored.
    TRANSITIONS = {
        Status.INITIATED: {Status.ANSWERED, Status.ENDED},
        Status.ANSWERED: {Status.ENDED},
        Status.ENDED: set(),
    }

    call_control_id = models.CharField(max_length=255, unique=True)
    call_leg_id = models.CharField(max_length=64, blank=True)
    call_session_id = models.CharField(max_length=64, blank=True, db_index=True)
    connection_id = models.CharField(max_length=64, blank=True)
    direction = models.CharField(max_length=8, choices=Direction.choices, blank=True)
    from_number = models.CharField(max_length=255, blank=True)
    to_number = models.CharField(max_length=255, blank=True)
    caller_name = models.CharField(max_length=100, blank=True)
    phone_number = models.ForeignKey(
        "numbers.PhoneNumber", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="legs",
        help_text="For a leg we dialled on behalf of another call (an agent leg, a forward).",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.INITIATED)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    initiated_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    hangup_cause = models.CharField(max_length=40, blank=True)
    hangup_source = models.CharField(max_length=20, blank=True)
    sip_hangup_cause = models.CharField(max_length=10, blank=True)
    flow = models.CharField(max_length=40, blank=True, help_text="Which flow drives this leg (greeting, ivr, queue...).")
    flow_state = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], condition=~Q(status="ended"), name="call_live")]

    def __str__(self):
        return f"{self.get_direction_display()} {self.from_number} -> {self.to_number} [{self.status}]"

    @property
    def talk_seconds(self) -> int:
        if self.answered_at and self.ended_at and self.ended_at > self.answered_at:
            return int((self.ended_at - self.answered_at).total_seconds())
        return 0


class CallEvent(models.Model):
    """The audit log of a call: every webhook applied to it and every change made.

    ``old_status``/``new_status`` are set when the row changed the call's
    status; ``actor`` is the user who acted, empty for Telnyx and the system.
    """

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    old_status = models.CharField(max_length=12, blank=True)
    new_status = models.CharField(max_length=12, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    source = models.CharField(max_length=16, default="telnyx")  # telnyx | user | system
    telnyx_event = models.ForeignKey("telnyx.TelnyxEvent", null=True, blank=True, on_delete=models.SET_NULL)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "pk"]

    def __str__(self):
        return f"{self.kind} at {self.occurred_at:%H:%M:%S}"
