import httpx
from celery import shared_task

from apps.recordings import services


@shared_task(bind=True, name="apps.recordings.tasks.recording_fetch", acks_late=True, ignore_result=True,
             max_retries=5)
def recording_fetch_task(self, recording_pk: int) -> None:
    """Copy a recording from Telnyx to private storage; retried on network errors."""
    try:
        services.recording_fetch(recording_pk=recording_pk)
    except httpx.HTTPError as exc:
        if self.request.retries >= self.max_retries:
            services.recording_fetch_failed(recording_pk=recording_pk, error=str(exc))
            return
        raise self.retry(countdown=2 ** self.request.retries, exc=exc)
