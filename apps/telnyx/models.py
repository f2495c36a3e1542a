"""What we received from Telnyx (webhook events) and what we asked of it (commands)."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class TelnyxEvent(models.Model):
    """One webhook delivery, stored raw before anything acts on it.

    The Telnyx event id is unique, so a duplicate delivery is recognised by
    the database, not by application code that could race.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSED = "processed"
        IGNORED = "ignored"  # no handler for this event type
        FAILED = "failed"  # a handler raised; see error / traceback

    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=100)
    occurred_at = models.DateTimeField(null=True, blank=True)
    call_control_id = models.CharField(max_length=255, blank=True)
    body = models.JSONField()
    headers = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        # Every webhook inserts a row and updates it once, so each index costs
        # on the hot path. Declared here rather than with unique=/db_index=,
        # which on PostgreSQL add a second, varchar_pattern_ops index per
        # column for LIKE 'prefix%' lookups that nothing here makes.
        constraints = [models.UniqueConstraint(fields=["event_id"], name="telnyx_event_id_unique")]
        indexes = [
            # The sweep only ever looks at unprocessed events.
            models.Index(fields=["received_at"], condition=Q(processed_at=None), name="telnyx_event_unprocessed"),
            models.Index(fields=["call_control_id"], name="telnyx_event_call"),
            models.Index(fields=["event_type"], name="telnyx_event_type"),
        ]

    def __str__(self):
        return f"{self.event_type} {self.event_id}"

    @property
    def payload(self) -> dict:
        return self.body.get("data", {}).get("payload") or {}


class TelnyxCommand(models.Model):
    """One logical command to Telnyx, kept from intent to outcome.

    ``command_id`` is made once, when the intent is recorded, and every retry
    sends the same one, so Telnyx applies the command at most once. ``key``
    names the intent (e.g. "answer the call of event X"): recording the same
    intent twice returns the existing row instead of a second command.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENDING = "sending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    command_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key = models.CharField(max_length=255)
    action = models.CharField(max_length=64)
    method = models.CharField(max_length=8, default="POST")
    path = models.CharField(max_length=500)
    body = models.JSONField(default=dict, blank=True)
    call_control_id = models.CharField(max_length=255, blank=True)
    depends_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="dependents")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When a pending retry is due, or, while sending, when the send is presumed
    # lost (its worker died): the sweep leaves the command alone until then.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # As TelnyxEvent: no LIKE-pattern twin indexes on the hot path.
        constraints = [models.UniqueConstraint(fields=["key"], name="telnyx_command_key_unique")]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(status="queued"), name="telnyx_command_queued"),
            models.Index(fields=["call_control_id"], name="telnyx_command_call"),
        ]

    def __str__(self):
        return f"{self.action} {self.call_control_id or self.path} [{self.status}]"

    @property
    def error_code(self) -> str:
        """The first Telnyx error code of a failed command ("90018" = call ended)."""
        errors = (self.response or {}).get("errors") or [{}]
        return str(errors[0].get("code", ""))
