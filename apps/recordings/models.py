"""Call recordings, copied from Telnyx into our own private storage.

Telnyx's recording URLs are short-lived; the file is fetched once into the
default storage (local disk or S3 through django-storages) and only ever
served through an authenticated view, never from a public URL.
"""

from django.db import models
from django.db.models import Q


class Recording(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"  # saved at Telnyx, not copied yet
        STORED = "stored"
        FAILED = "failed"

    call = models.ForeignKey("calls.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="recordings")
    telnyx_recording_id = models.CharField(max_length=64, blank=True)
    purpose = models.CharField(max_length=20, default="call", help_text="call, voicemail, ...")
    format = models.CharField(max_length=8, default="mp3")
    channels = models.CharField(max_length=8, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    source_url = models.URLField(max_length=2000, blank=True, help_text="Telnyx's download link (expires)")
    file = models.FileField(upload_to="recordings/%Y/%m/%d/", blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["telnyx_recording_id"], condition=~Q(telnyx_recording_id=""), name="recording_unique_telnyx_id"
            )
        ]

    def __str__(self):
        return f"{self.purpose} recording {self.pk} ({self.get_status_display()})"

    @property
    def duration_seconds(self) -> int:
        if self.started_at and self.ended_at and self.ended_at > self.started_at:
            return int((self.ended_at - self.started_at).total_seconds())
        return 0
