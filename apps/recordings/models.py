"""Call recordings, copied from Telnyx into our own private storage, and voicemail.

Telnyx's recording URLs are short-lived; the file is fetched once into the
default storage (local disk or S3 through django-storages) and only ever
served through an authenticated view, never from a public URL.

A voicemail is a recording (purpose "voicemail") filed in a box: one box per
IVR or per queue (see ``apps.recordings.voicemail``).
"""

from django.conf import settings
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


class VoicemailBox(models.Model):
    """Where voicemails left in one IVR, or for one queue, are collected."""

    name = models.CharField(max_length=100)
    ivr = models.OneToOneField(
        "ivr.IvrFlow", null=True, blank=True, on_delete=models.SET_NULL, related_name="voicemail_box"
    )
    queue = models.OneToOneField(
        "queues.Queue", null=True, blank=True, on_delete=models.SET_NULL, related_name="voicemail_box"
    )
    callback_number = models.CharField(
        max_length=20, blank=True,
        help_text="Caller ID when calling back (E.164, one of our numbers); empty: the number the caller dialled.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "voicemail box"
        verbose_name_plural = "voicemail boxes"
        constraints = [
            # Per IVR or per queue, never both. A box keeps its messages (and
            # stays listed) when its IVR or queue is deleted.
            models.CheckConstraint(condition=Q(ivr__isnull=True) | Q(queue__isnull=True), name="voicemail_box_one_owner"),
        ]

    def __str__(self):
        return self.name


class Voicemail(models.Model):
    class Status(models.TextChoices):
        NEW = "new"
        HANDLED = "handled"

    box = models.ForeignKey(VoicemailBox, on_delete=models.PROTECT, related_name="messages")
    recording = models.OneToOneField(Recording, on_delete=models.PROTECT, related_name="voicemail")
    call = models.ForeignKey("calls.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="voicemails")
    from_number = models.CharField(max_length=255, blank=True)
    caller_name = models.CharField(max_length=100, blank=True)
    to_number = models.CharField(max_length=255, blank=True, help_text="The number the caller dialled.")
    duration_seconds = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEW)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["box", "created_at"], condition=Q(status="new"), name="voicemail_new")]

    def __str__(self):
        return f"voicemail {self.pk} from {self.from_number}"


class VoicemailCallback(models.Model):
    """Calling a voicemail's caller back: ring the user's phone, then the caller, then bridge."""

    class Status(models.TextChoices):
        RINGING_USER = "ringing_user", "Ringing your phone"
        USER_NO_ANSWER = "user_no_answer", "You did not answer"
        RINGING_CALLER = "ringing_caller", "Ringing the caller"
        CALLER_NO_ANSWER = "caller_no_answer", "The caller did not answer"
        CONNECTED = "connected"
        COMPLETED = "completed"
        CANCELLED = "cancelled"

    FINAL = {Status.USER_NO_ANSWER, Status.CALLER_NO_ANSWER, Status.COMPLETED, Status.CANCELLED}

    voicemail = models.ForeignKey(Voicemail, on_delete=models.CASCADE, related_name="callbacks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    user_phone = models.CharField(max_length=255, help_text="The number or SIP URI rung first.")
    caller_id = models.CharField(max_length=20)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RINGING_USER)
    user_call = models.ForeignKey("calls.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    caller_call = models.ForeignKey("calls.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"callback {self.pk} of voicemail {self.voicemail_id} ({self.status})"
