"""Celery tasks of numbers: jobs at Telnyx and caller-name lookups."""

import logging

from celery import shared_task

from apps.numbers import services
from apps.numbers.services.jobs import telnyx_message
from apps.telnyx.client import TelnyxError

logger = logging.getLogger(__name__)

# Transient Telnyx failures: 2, 4, 8, 16, 32, 60, 60 s, then the job fails
# with the last error (the admin can retry it from the numbers page).
JOB_RETRY_COUNTDOWNS = (2, 4, 8, 16, 32, 60, 60)


@shared_task(bind=True, name="apps.numbers.tasks.number_job_run", acks_late=True, ignore_result=True,
             max_retries=len(JOB_RETRY_COUNTDOWNS))
def number_job_run_task(self, job_id: int) -> None:
    """Run or resume an order, import or release job (idempotent: each step is saved)."""
    try:
        resume_after = services.number_job_run(job_id=job_id)
    except TelnyxError as exc:
        if self.request.retries >= self.max_retries:
            services.number_job_fail(job_id=job_id, error=telnyx_message(exc))
            return
        raise self.retry(countdown=JOB_RETRY_COUNTDOWNS[self.request.retries], exc=exc)
    except Exception as exc:
        # A bug must not leave the page showing "running" forever.
        services.number_job_fail(job_id=job_id, error=f"Unexpected error: {type(exc).__name__}: {exc}")
        raise
    if resume_after:
        number_job_run_task.apply_async((job_id,), countdown=resume_after)


@shared_task(name="apps.numbers.tasks.number_jobs_sweep", ignore_result=True)
def number_jobs_sweep_task() -> int:
    """Periodic: queue again the number jobs whose task was lost (never queued, or its worker died)."""
    return services.number_jobs_sweep()


@shared_task(name="apps.numbers.tasks.caller_name_lookup", acks_late=True, ignore_result=True)
def caller_name_lookup_task(call_id: int) -> None:
    """Fill in an inbound call's caller name from Telnyx Number Lookup (cached per number)."""
    services.call_caller_name_fill(call_id=call_id)
