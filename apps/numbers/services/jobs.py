"""Number jobs: ordering, importing and releasing numbers at Telnyx, one saved step at a time.

A view starts a job (a row the page follows live over the websocket) and a
Celery task runs it. The runner takes a short lease on the row (renewed at
each step), so a second delivery of the same task waits instead of ordering
twice, and saves each step as it completes, so a runner that dies is resumed
where it stopped. Resumed by whom: a task that could not be queued, or whose
worker died, is queued again by :func:`number_jobs_sweep` (Celery beat) once
its lease has run out and it has not moved for ``STALE_AFTER``; a job that
failed is run again by an admin's retry (:func:`number_job_retry`).

Ordering: POST /number_orders -> poll GET /number_orders/{id} until success
-> find the number's Telnyx id -> make it ours locally -> PATCH it onto
``TELNYX_CONNECTION_ID`` -> done. Number orders take no command_id: once a
POST may have reached Telnyx, we look the order up by its customer_reference
and, failing that, the number up among the account's (adopting it if it is
there) instead of posting again.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.exceptions import ApplicationError
from apps.core.realtime import publish_on_commit, user_group
from apps.numbers import numbers_api
from apps.numbers.messages import NumberMessages
from apps.numbers.models import NumberJob, PhoneNumber
from apps.numbers.services.numbers import (
    e164_or_refuse,
    phone_number_acquire,
    phone_number_set_status,
)
from apps.numbers.validation import e164_normalize
from apps.telnyx.client import TelnyxError

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
# A runner polls a pending order this long, then frees its worker and comes back.
POLL_BUDGET_SECONDS = 20.0
RESUME_AFTER_SECONDS = 15.0
# An order POST whose answer was lost may take a moment to be listed; only
# after this long without finding it is a second POST safe.
ORDER_LOOKUP_GRACE = timedelta(seconds=60)
ORDER_GIVE_UP = timedelta(hours=1)
# The sweep: a job nobody holds and nothing touched for this long has lost its
# task (longer than any countdown the runner schedules itself: 15 s resumes,
# retries of at most 60 s), so it is queued again; after MAX_REQUEUES of those
# in one attempt it is failed for the admin to retry.
STALE_AFTER = timedelta(minutes=2)
MAX_REQUEUES = 10
SWEEP_BATCH = 100
IMPORTABLE_STATUSES = {"active"}
STEP_QUEUED = "Queued"


# --- starting jobs (views and APIs call these) -----------------------------------
def _publish(job: NumberJob) -> None:
    if job.created_by_id:
        publish_on_commit(user_group(job.created_by_id), NumberMessages.job_updated(job))


def _enqueue(job_pk: int) -> None:
    from apps.numbers.tasks import number_job_run_task

    try:
        number_job_run_task.delay(job_pk)
    except Exception:
        # The job row is committed: the sweep queues it again once it has
        # been left alone for STALE_AFTER (number_jobs_sweep).
        logger.warning("could not queue number job %s", job_pk, exc_info=True)


def _create(**values) -> NumberJob:
    job = NumberJob.objects.create(step=STEP_QUEUED, **values)
    _publish(job)
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


@transaction.atomic(durable=True)
def number_order_start(*, phone_number: str, user, label: str = "", tracking_source: str = "",
                       found: dict | None = None) -> NumberJob:
    """Order ``phone_number`` from Telnyx in a job the page follows.

    ``found`` is the search row the admin chose (locality, features...): kept
    only to describe the new number.
    """
    e164 = e164_or_refuse(phone_number)
    if PhoneNumber.objects.routable().filter(e164=e164).exists():
        raise ApplicationError(f"{e164} is already one of the center's numbers.", {"field": "phone_number"})
    details = {"label": label, "tracking_source": tracking_source, **(found or {})}
    try:
        with transaction.atomic():
            return _create(kind=NumberJob.Kind.ORDER, phone_number=e164, created_by=user, details=details)
    except IntegrityError:  # the partial unique constraint: an open order for this number
        raise ApplicationError(f"{e164} is already being ordered.", {"field": "phone_number"}) from None


@transaction.atomic(durable=True)
def number_release_start(*, number: PhoneNumber, user) -> NumberJob:
    """Release ``number`` at Telnyx (a job); the row and its calls stay as history."""
    number = PhoneNumber.objects.select_for_update().get(pk=number.pk)
    if number.status != PhoneNumber.Status.ACTIVE:
        raise ApplicationError(f"{number.e164} is {number.get_status_display().lower()} already.")
    phone_number_set_status(number=number, status=PhoneNumber.Status.RELEASING)
    return _create(kind=NumberJob.Kind.RELEASE, phone_number=number.e164, number=number, created_by=user)


@transaction.atomic(durable=True)
def numbers_import_start(*, user, assign: bool = False) -> NumberJob:
    """Import the numbers the Telnyx account already has (``assign``: point them at this center)."""
    return _create(kind=NumberJob.Kind.IMPORT, created_by=user, details={"assign": bool(assign)})


# --- running jobs (the task calls these) ----------------------------------------------
def number_job_run(*, job_id: int) -> float | None:
    """Advance a job as far as it can go now.

    Returns the seconds after which it should run again (an order Telnyx has
    not completed yet), or None when it finished or another runner holds it.
    Permanent Telnyx refusals fail the job; transient errors are raised for
    the task to retry.
    """
    job = _lease(job_id)
    if job is None:
        return None
    try:
        return _RUNNERS[job.kind](job)
    except TelnyxError as exc:
        if exc.permanent:
            number_job_fail(job_id=job.pk, error=telnyx_message(exc))
            return None
        # Free it for the task's retry; updated_at tells the sweep it is not abandoned.
        NumberJob.objects.filter(pk=job.pk).update(lease_until=None, updated_at=timezone.now())
        raise
    except ApplicationError as exc:
        number_job_fail(job_id=job.pk, error=exc.message)
        return None


def _lease(job_id: int) -> NumberJob | None:
    now = timezone.now()
    taken = (
        NumberJob.objects.filter(pk=job_id, status__in=[NumberJob.Status.QUEUED, NumberJob.Status.RUNNING])
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE, status=NumberJob.Status.RUNNING, updated_at=now)
    )
    return NumberJob.objects.select_related("number").get(pk=job_id) if taken else None


@transaction.atomic
def _step(job: NumberJob, **changes) -> NumberJob:
    """Save what the job has done so far and tell its page (after commit).

    A step of a runner holding the lease renews it: a long import keeps its
    job while it makes progress, and only a runner that stopped loses it.
    """
    for field, value in changes.items():
        setattr(job, field, value)
    job.version += 1
    if job.finished:
        job.finished_at = timezone.now()
        job.lease_until = None
    elif job.lease_until is not None and "lease_until" not in changes:
        job.lease_until = timezone.now() + LEASE
    job.save()
    _publish(job)
    return job


@transaction.atomic
def number_job_fail(*, job_id: int, error: str) -> None:
    """Give up on a job with a message for the admin; a number being released stays active."""
    job = NumberJob.objects.select_for_update(of=("self",)).select_related("number").get(pk=job_id)
    if job.finished:
        return
    if job.kind == NumberJob.Kind.RELEASE and job.number and job.number.status == PhoneNumber.Status.RELEASING:
        phone_number_set_status(number=job.number, status=PhoneNumber.Status.ACTIVE)
    _step(job, status=NumberJob.Status.FAILED, step="Failed", error=error[:2000])


def number_jobs_sweep(*, now=None) -> int:
    """Queue again the jobs whose task was lost; returns how many (Celery beat runs it).

    A job is lost when it is unfinished, nobody holds its lease, and it has
    not moved for ``STALE_AFTER``: its task could not be queued, or its worker
    died (the lease then runs out). Queuing it again cannot run it twice at
    once (the runner's lease) and cannot order twice (``_order_place`` looks
    the order and the number up before any second POST).
    """
    now = now or timezone.now()
    lost = Q(status__in=[NumberJob.Status.QUEUED, NumberJob.Status.RUNNING], updated_at__lt=now - STALE_AFTER) & (
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )
    count = 0
    for pk in NumberJob.objects.filter(lost).order_by("updated_at").values_list("pk", flat=True)[:SWEEP_BATCH]:
        with transaction.atomic():
            # skip_locked: a runner leasing it right now, or another sweep, has it.
            job = NumberJob.objects.select_for_update(skip_locked=True, of=("self",)).filter(lost, pk=pk).first()
            if job is None:
                continue
            if job.requeues >= MAX_REQUEUES:
                number_job_fail(job_id=job.pk, error=(
                    f"The job stopped making progress (at: {job.step or 'the start'}) and was restarted "
                    f"{job.requeues} times. Retry it, or check the number in the Telnyx portal."))
                continue
            # updated_at moves on too: the next sweep leaves it alone for STALE_AFTER.
            NumberJob.objects.filter(pk=job.pk).update(requeues=job.requeues + 1, updated_at=now)
            logger.warning("number job %s (%s, %s) was left at %r: queuing it again", job.pk, job.kind,
                           job.status, job.step)
            transaction.on_commit(lambda pk=job.pk: _enqueue(pk))
            count += 1
    return count


@transaction.atomic(durable=True)
def number_job_retry(*, job: NumberJob, user) -> NumberJob:
    """Run a failed job again, from where it stopped.

    An order keeps its reference and what it sent, so a retry finds an order
    that did reach Telnyx rather than buying the number twice. A release
    marks its number "Being released" again.
    """
    job = NumberJob.objects.select_for_update(of=("self",)).select_related("number").get(pk=job.pk)
    if job.status != NumberJob.Status.FAILED:
        raise ApplicationError(f"Only a failed job can be retried; this one is {job.status}.")
    if job.kind == NumberJob.Kind.ORDER:
        if PhoneNumber.objects.routable().filter(e164=job.phone_number).exclude(pk=job.number_id).exists():
            raise ApplicationError(f"{job.phone_number} is already one of the center's numbers.")
    elif job.kind == NumberJob.Kind.RELEASE:
        if job.number is None:
            raise ApplicationError("The number of this job no longer exists.")
        number = PhoneNumber.objects.select_for_update().get(pk=job.number_id)
        if number.status != PhoneNumber.Status.ACTIVE:
            raise ApplicationError(f"{number.e164} is {number.get_status_display().lower()} already.")
        phone_number_set_status(number=number, status=PhoneNumber.Status.RELEASING)
    try:
        with transaction.atomic():
            _step(job, status=NumberJob.Status.QUEUED, step=STEP_QUEUED, error="", finished_at=None,
                  lease_until=None, requeues=0, started_at=timezone.now())
    except IntegrityError:  # the partial unique constraint: another order for this number is open
        raise ApplicationError(f"{job.phone_number} is already being ordered.") from None
    logger.info("number job %s retried by %s", job.pk, user)
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def telnyx_message(exc: TelnyxError) -> str:
    """Telnyx's own explanation (e.g. "These numbers are not available: ...") for the page."""
    errors = exc.body.get("errors") or []
    if errors and isinstance(errors[0], dict):
        first = errors[0]
        return str(first.get("detail") or first.get("title") or exc.message)
    return exc.message


# Ordering ---------------------------------------------------------------------------
def _run_order(job: NumberJob) -> float | None:
    owned = None  # the account's record of the number, once we know it is ours
    if not job.telnyx_order_id:
        wait, owned = _order_place(job)
        if wait:
            return wait
    if owned is None:
        order = _order_wait(job)
        if order is None:
            return RESUME_AFTER_SECONDS
        if order.get("status") != "success":
            # That order is over and bought nothing: forget it, so a retry
            # places a new one (under a new reference) instead of reading this one again.
            reason = _order_failure(order)
            _step(job, telnyx_order_id="", order_sent_at=None, reference=uuid.uuid4())
            raise ApplicationError(reason)
    _step(job, step="Assigning the number to this center")
    owned = owned or numbers_api.owned_find(job.phone_number)
    if owned is None:  # bought but not listed yet: try again shortly
        raise TelnyxError(f"{job.phone_number} is not listed among the account's numbers yet")
    with transaction.atomic():
        number, _ = phone_number_acquire(
            e164=job.phone_number, telnyx_id=str(owned["id"]), connection_id=owned.get("connection_id") or "",
            details=job.details,
        )
        _step(job, number=number)
    _assign(number, owned)
    _step(job, status=NumberJob.Status.DONE, step="Done")
    return None


def _order_place(job: NumberJob) -> tuple[float | None, dict | None]:
    """POST the order once.

    Returns ``(seconds, None)`` to come back later while a lost POST may
    still appear; ``(None, the account's record)`` when, instead of ordering
    again, the number turned out to be the account's already (an earlier POST
    bought it); ``(None, None)`` once the job has its order.
    """
    order = None
    if job.order_sent_at:  # an earlier attempt may have reached Telnyx
        order = numbers_api.order_find(job.customer_reference)
        if order is None and timezone.now() - job.order_sent_at < ORDER_LOOKUP_GRACE:
            _step(job, step="Checking whether Telnyx received the order", lease_until=None)
            return RESUME_AFTER_SECONDS, None
        if order is None:
            # No order under our reference, yet the POST may have bought the
            # number (an order listed late, a lookup that missed it): a second
            # POST must never buy what the account already has, so look there last.
            owned = numbers_api.owned_find(job.phone_number)
            if owned is not None:
                _step(job, step="Found the number among the account's numbers")
                return None, owned
    if order is None:
        _step(job, step="Placing the order", order_sent_at=timezone.now())  # committed before the POST
        order = numbers_api.order_create(
            phone_number=job.phone_number, customer_reference=job.customer_reference,
            connection_id=settings.TELNYX_CONNECTION_ID,
        )
    _step(job, telnyx_order_id=str(order["id"]), step="Waiting for Telnyx to complete the order")
    return None, None


def _order_wait(job: NumberJob) -> dict | None:
    """Poll the order until Telnyx finishes it; None if it is still pending after the budget."""
    deadline = time.monotonic() + POLL_BUDGET_SECONDS
    delay = 0.1
    while True:
        order = numbers_api.order_get(job.telnyx_order_id)
        if order.get("status") != "pending":
            return order
        if timezone.now() - job.started_at > ORDER_GIVE_UP:
            raise ApplicationError("Telnyx has not completed the order within an hour; check it in the portal.")
        if time.monotonic() + delay > deadline:
            _step(job, step="Waiting for Telnyx to complete the order", lease_until=None)
            return None
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def _order_failure(order: dict) -> str:
    for item in order.get("phone_numbers") or []:
        if item.get("status") not in (None, "success"):
            reason = "; ".join(str(r) for r in item.get("regulatory_requirements") or []) or item.get("status")
            return f"Telnyx could not order {item.get('phone_number')}: {reason}."
    return f"Telnyx ended the order with status {order.get('status')!r}."


def _assign(number: PhoneNumber, owned: dict) -> None:
    """PATCH the number onto our Call Control application, unless it already is."""
    connection_id = settings.TELNYX_CONNECTION_ID
    if not connection_id:
        return
    if owned.get("connection_id") != connection_id:
        numbers_api.number_assign(telnyx_id=str(owned["id"]), connection_id=connection_id)
    PhoneNumber.objects.filter(pk=number.pk).update(connection_id=connection_id)


# Releasing --------------------------------------------------------------------------
def _run_release(job: NumberJob) -> None:
    number = job.number
    if number is None:
        raise ApplicationError("The number of this job no longer exists.")
    telnyx_id = number.telnyx_id
    if not telnyx_id:  # never imported: find it by its digits
        owned = numbers_api.owned_find(number.e164)
        telnyx_id = str(owned["id"]) if owned else ""
    if telnyx_id:
        _step(job, step="Deleting the number at Telnyx")
        numbers_api.number_delete(telnyx_id)  # already gone (404) counts as done
    with transaction.atomic():
        phone_number_set_status(number=number, status=PhoneNumber.Status.RELEASED)
        _step(job, status=NumberJob.Status.DONE, step="Released")
    return None


# Importing --------------------------------------------------------------------------
def _run_import(job: NumberJob) -> None:
    counts = {"created": 0, "updated": 0, "restored": 0, "unchanged": 0, "skipped": 0, "invalid": 0, "assigned": 0}
    invalid: list[str] = []
    assign = bool(job.details.get("assign"))
    _step(job, step="Listing the account's numbers")
    for page in numbers_api.owned_pages():
        for row in page:
            outcome = _import_one(row, assign=assign, counts=counts)
            counts[outcome] += 1
            if outcome == "invalid" and len(invalid) < 20:
                invalid.append(str(row.get("phone_number")))
        seen = sum(counts[k] for k in ("created", "updated", "restored", "unchanged", "skipped", "invalid"))
        _step(job, step=f"Read {seen} numbers", details={**job.details, **counts, "invalid_numbers": invalid})
    _step(job, status=NumberJob.Status.DONE, step="Done",
          details={**job.details, **counts, "invalid_numbers": invalid})
    return None


def _import_one(row: dict, *, assign: bool, counts: dict) -> str:
    if row.get("status") not in IMPORTABLE_STATUSES:
        return "skipped"
    try:
        e164 = e164_normalize(str(row.get("phone_number") or ""))
    except ValidationError:
        return "invalid"
    telnyx_id, connection_id = str(row.get("id") or ""), row.get("connection_id") or ""
    existing = PhoneNumber.objects.filter(e164=e164).first()
    facts = {"country": row.get("country_iso_alpha2") or "", "number_type": row.get("phone_number_type") or ""}
    if existing is not None and not existing.is_released:
        changed = {k: v for k, v in {"telnyx_id": telnyx_id, "connection_id": connection_id, **facts}.items()
                   if v and getattr(existing, k) != v}
        if changed:
            PhoneNumber.objects.filter(pk=existing.pk).update(**changed, updated_at=timezone.now())
        number, outcome = existing, "updated" if changed else "unchanged"
    else:
        number, _ = phone_number_acquire(e164=e164, telnyx_id=telnyx_id, connection_id=connection_id, details=facts)
        outcome = "restored" if existing is not None else "created"
    if assign and settings.TELNYX_CONNECTION_ID and connection_id != settings.TELNYX_CONNECTION_ID:
        _assign(number, row)
        counts["assigned"] += 1
    return outcome


_RUNNERS = {
    NumberJob.Kind.ORDER: _run_order,
    NumberJob.Kind.RELEASE: _run_release,
    NumberJob.Kind.IMPORT: _run_import,
}
