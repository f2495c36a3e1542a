"""Caller names from Telnyx Number Lookup (``caller-name``), cached per number.

Looked up in a task queued after the ``call.initiated`` transaction, so a
slow lookup never delays answering. The cache row is claimed before asking
Telnyx: a second call from the same number, arriving while the first
lookup is in flight, waits for that answer instead of paying for its own.
No database lock is held while Telnyx answers.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.calls.models import Call
from apps.calls.services import call_log, call_publish
from apps.core.db import insert_ignoring_conflict
from apps.numbers import numbers_api
from apps.numbers.models import CallerLookup
from apps.numbers.validation import looks_like_e164
from apps.telnyx.client import TelnyxError

logger = logging.getLogger(__name__)

# CNAM changes rarely; a month keeps lookups (which Telnyx bills) to about one per caller.
CALLER_NAME_TTL = timedelta(days=getattr(settings, "CALLER_NAME_CACHE_DAYS", 30))
# A claim older than this belongs to a runner that died; someone else may take over.
CLAIM_TIMEOUT = timedelta(seconds=15)
WAIT_POLL_SECONDS = 0.2


def caller_name_get(*, phone_number: str) -> tuple[str | None, bool]:
    """``(name, cached)``: the caller name of a number, from the cache or Telnyx.

    ``name`` is '' when Telnyx has none and None when the lookup failed (a
    failure is not cached: the next call tries again).
    """
    deadline = time.monotonic() + CLAIM_TIMEOUT.total_seconds()
    while True:
        entry = CallerLookup.objects.filter(phone_number=phone_number).first()
        if entry is not None and entry.is_fresh(CALLER_NAME_TTL):
            return entry.caller_name, True
        if _claim(phone_number, entry) or time.monotonic() > deadline:
            break
        time.sleep(WAIT_POLL_SECONDS)  # another task is asking Telnyx right now
    return _lookup(phone_number), False


def _claim(phone_number: str, entry: CallerLookup | None) -> bool:
    now = timezone.now()
    if entry is None:
        pk = insert_ignoring_conflict(
            CallerLookup, {"phone_number": phone_number, "claimed_at": now}, conflict="phone_number"
        )
        return pk is not None
    if entry.status == CallerLookup.Status.PENDING and entry.claimed_at > now - CLAIM_TIMEOUT:
        return False
    # Expired, failed or abandoned: take it over, unless someone else just did.
    return bool(
        CallerLookup.objects.filter(pk=entry.pk, claimed_at=entry.claimed_at).update(
            claimed_at=now, status=CallerLookup.Status.PENDING
        )
    )


def _lookup(phone_number: str) -> str | None:
    try:
        name = numbers_api.caller_name(phone_number)
    except TelnyxError as exc:
        logger.info("caller-name lookup of %s failed: %s", phone_number, exc)
        CallerLookup.objects.filter(phone_number=phone_number).update(
            status=CallerLookup.Status.FAILED, error=exc.message[:500]
        )
        return None
    CallerLookup.objects.filter(phone_number=phone_number).update(
        status=CallerLookup.Status.DONE, caller_name=name[:100], looked_up_at=timezone.now(), error=""
    )
    return name[:100]


def call_caller_name_fill(*, call_id: int) -> None:
    """Give an inbound call its caller's name from Number Lookup (idempotent)."""
    call = Call.objects.filter(pk=call_id).only("from_number", "direction").first()
    if call is None or call.direction != Call.Direction.INBOUND or not looks_like_e164(call.from_number):
        return
    name, cached = caller_name_get(phone_number=call.from_number)
    if name is None:
        return
    _call_set_caller_name(call_id=call_id, name=name, cached=cached)


@transaction.atomic
def _call_set_caller_name(*, call_id: int, name: str, cached: bool) -> None:
    call = Call.objects.select_for_update(no_key=True).get(pk=call_id)
    # Telnyx often sends the number itself as caller_id_name: that is no name.
    current = "" if call.caller_name == call.from_number else call.caller_name
    new = name or current
    call_log(call=call, kind="caller_name.lookup", data={"name": name, "cached": cached})
    if new == call.caller_name:
        return
    call.caller_name = new
    call.version += 1
    call.save(update_fields=["caller_name", "version", "updated_at"])
    call_publish(call)
