"""Call queues (members, strategy, announcements, overflow: see issue "Queues")."""

from django.db import models
from django.db.models import Q


class Queue(models.Model):
    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def telnyx_name(self) -> str:
        """The Telnyx queue a call is enqueued in: stable even if the queue is renamed."""
        return f"queue-{self.pk}"


class QueueEntry(models.Model):
    """One stay of a call in a queue: from the enqueue command until it leaves.

    Kept current from ``call.enqueued`` / ``call.dequeued`` / ``call.hangup``,
    whatever order they arrive in: once an entry has left it never waits again.
    """

    class Status(models.TextChoices):
        WAITING = "waiting"
        LEFT = "left"

    call = models.ForeignKey("calls.Call", on_delete=models.CASCADE, related_name="queue_entries")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="entries")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.WAITING)
    entered_at = models.DateTimeField(null=True, blank=True, help_text="When Telnyx put the call in the queue.")
    left_at = models.DateTimeField(null=True, blank=True)
    leave_reason = models.CharField(max_length=32, blank=True, help_text="Telnyx's reason, or 'hangup'.")
    position = models.PositiveIntegerField(null=True, blank=True, help_text="Position when enqueued (1 = first).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "queue entries"
        indexes = [models.Index(fields=["queue", "created_at"], condition=Q(status="waiting"), name="queue_entry_waiting")]

    def __str__(self):
        return f"{self.call_id} in {self.queue} ({self.status})"
