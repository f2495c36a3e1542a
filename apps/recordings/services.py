"""Recording life cycle: noted from the webhook, copied to private storage."""

import logging

import httpx
from django.core.files.base import ContentFile
from django.db import transaction

from apps.calls.models import Call
from apps.recordings.models import Recording
from apps.telnyx.events import CallRecordingSaved, WebhookEvent

logger = logging.getLogger(__name__)


@transaction.atomic(savepoint=False)
def recording_note(*, event: WebhookEvent, call: Call | None, purpose: str = "call") -> Recording:
    """Record that Telnyx saved a recording; the copy happens in a task after commit.

    Idempotent per Telnyx recording id (a re-sent webhook notes nothing new).
    """
    payload: CallRecordingSaved = event.payload
    urls = payload.recording_urls or payload.public_recording_urls or {}
    # The format asked for in record_start, when Telnyx says it; else what has a link.
    fmt = getattr(payload, "format", None) or ("mp3" if urls.get("mp3") else "wav")
    recording_id = payload.recording_id or event.id
    recording, created = Recording.objects.get_or_create(
        telnyx_recording_id=recording_id,
        defaults={
            "call": call,
            "purpose": purpose,
            "format": fmt,
            "channels": payload.channels or "",
            "started_at": payload.recording_started_at,
            "ended_at": payload.recording_ended_at,
            "source_url": urls.get(fmt) or "",
        },
    )
    if created:
        from apps.recordings.tasks import recording_fetch_task

        transaction.on_commit(lambda: recording_fetch_task.delay(recording.pk))
    return recording


def recording_fetch(*, recording_pk: int) -> None:
    """Copy the audio from Telnyx into our storage (idempotent; raises to be retried)."""
    recording = Recording.objects.get(pk=recording_pk)
    if recording.status == Recording.Status.STORED:
        return
    if not recording.source_url:
        Recording.objects.filter(pk=recording_pk).update(status=Recording.Status.FAILED, error="no download URL")
        return
    response = httpx.get(recording.source_url, timeout=60, follow_redirects=True)
    response.raise_for_status()
    name = f"{recording.telnyx_recording_id or recording.pk}.{recording.format}"
    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(pk=recording_pk)
        if recording.status == Recording.Status.STORED:
            return
        recording.file.save(name, ContentFile(response.content), save=False)
        recording.status = Recording.Status.STORED
        recording.error = ""
        recording.save(update_fields=["file", "status", "error"])


def recording_fetch_failed(*, recording_pk: int, error: str) -> None:
    Recording.objects.filter(pk=recording_pk).exclude(status=Recording.Status.STORED).update(
        status=Recording.Status.FAILED, error=error[:2000]
    )
