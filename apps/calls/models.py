"""Call legs as Telnyx reports them, and each leg's event log."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Call(models.Model):
    """One Telnyx call leg, keyed by its ``call_control_id``.

    Times come from the webhooks' ``occurred_at``, not from when we processed
    them, so a record is right even when events arrive late or out of order.

    The call log's ``caller_outcome`` and ``talk_seconds`` are derived from
    the facts on every ``save()``; a queryset ``update()`` of a fact skips
    that, so change calls through ``save()``.

    "Answered" in the call log means a person answered. An inbound call is
    always picked up by this application (Call Control answers it to play a
    greeting or an IVR), so its own ``answered_at`` says nothing about a
    person: only ``connected_at``, set by the flows that put the caller
    through to an agent or a forward destination, does. An inbound call that
    ended without one and without a ``connect_failure`` was handled by the
    system alone (greeting, IVR, a message left in an IVR's voicemail box, a
    caller hanging up in the menu): ``self_service``, with no talk time.
    A call we placed (outbound) is answered by whoever picked up.
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
        # Call log only: answered by the system (greeting, IVR, voicemail box), never by a person.
        SELF_SERVICE = "self_service", "Self-service"

    # The only moves the state machine makes; anything else is ignored.
    TRANSITIONS = {
        Status.INITIATED: {Status.ANSWERED, Status.ENDED},
        Status.ANSWERED: {Status.ENDED},
        Status.ENDED: set(),
    }

    call_control_id = models.CharField(max_length=255)
    call_leg_id = models.CharField(max_length=64, blank=True)
    call_session_id = models.CharField(max_length=64, blank=True)
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

    # --- Call log ------------------------------------------------------------
    # Copied from the number when the call arrives: a number's source may
    # change later, the history of its calls must not.
    tracking_source = models.CharField("source", max_length=100, blank=True)
    tracking_campaign = models.CharField("campaign", max_length=100, blank=True)
    destination = models.CharField(max_length=255, blank=True, help_text="Where the call was sent (forward number, IVR...).")
    first_time_caller = models.BooleanField(
        null=True, blank=True, help_text="First call from this caller's number to the center (unknown: empty)."
    )
    # Set by flows that connect the caller to a person (a forward, later an
    # agent): when they got through, or why they could not.
    connected_at = models.DateTimeField(null=True, blank=True)
    connect_failure = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    # Derived on every save from the facts above (see _derive_log_fields).
    caller_outcome = models.CharField(
        max_length=12, choices=Outcome.choices, blank=True, help_text="How the call ended for the caller."
    )
    talk_seconds = models.PositiveIntegerField(default=0, help_text="Seconds the caller talked (once ended).")

    # The facts the derived call-log fields are computed from.
    LOG_INPUTS = frozenset({"status", "outcome", "answered_at", "ended_at", "connected_at", "connect_failure"})
    LOG_DERIVED = ("caller_outcome", "talk_seconds")

    class Meta:
        ordering = ["-created_at"]
        # Declared here rather than with unique=/db_index=, which on
        # PostgreSQL add a LIKE-pattern twin index per column: every webhook
        # updates a call, and every index on it costs.
        constraints = [models.UniqueConstraint(fields=["call_control_id"], name="call_control_id_unique")]
        indexes = [
            models.Index(fields=["call_session_id"], name="call_session"),
            models.Index(fields=["created_at"], condition=~Q(status="ended"), name="call_live"),
            models.Index(fields=["initiated_at"], condition=Q(parent=None), name="call_log_started"),
            models.Index(fields=["from_number", "initiated_at"], name="call_caller_history"),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.from_number} -> {self.to_number} [{self.status}]"

    def save(self, *args, **kwargs):
        # The call log's outcome and talk time follow the facts whatever code
        # path saved them (state machine, flows, inferred ends); a partial save
        # that touches a fact also writes what derives from it.
        self._derive_log_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and self.LOG_INPUTS.intersection(update_fields):
            kwargs["update_fields"] = {*update_fields, *self.LOG_DERIVED}
        super().save(*args, **kwargs)

    def _derive_log_fields(self) -> None:
        if self.status != self.Status.ENDED:
            self.caller_outcome, self.talk_seconds = "", 0
            return
        if self.connected_at:
            self.caller_outcome = self.Outcome.ANSWERED
            start = self.connected_at
        elif self.connect_failure:
            self.caller_outcome, start = self.connect_failure, None
        elif self.answered_by_the_system and self.outcome == self.Outcome.ANSWERED:
            self.caller_outcome, start = self.Outcome.SELF_SERVICE, None
        else:  # not answered at all, or a call we placed: the leg's own outcome and answered time
            self.caller_outcome, start = self.outcome, self.answered_at
        ended = self.ended_at
        self.talk_seconds = int((ended - start).total_seconds()) if start and ended and ended > start else 0

    @property
    def answered_by_the_system(self) -> bool:
        """A caller's call to the center: its answer is ours, a person only joins through a flow."""
        return self.direction == self.Direction.INBOUND and self.parent_id is None

    @property
    def caller_answered_at(self):
        """When the caller was answered by a person, as the call log shows it."""
        if self.connected_at or self.connect_failure or self.answered_by_the_system:
            return self.connected_at
        return self.answered_at


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
