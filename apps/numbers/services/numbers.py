"""Changing numbers: settings admins edit, and the rows bought or imported numbers become."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.exceptions import ApplicationError
from apps.numbers.models import PhoneNumber
from apps.numbers.validation import country_of, destination_normalize, e164_normalize

# What an admin may change on a number (the rest comes from Telnyx).
EDITABLE_FIELDS = (
    "label", "route", "greeting", "ivr", "queue", "queue_priority", "agent", "forward_to", "forward_timeout",
    "tracking_source", "tracking_campaign", "whisper", "record_calls",
)
# Reset when a number comes back after a release: the old owner's routing
# (a forward to someone's phone) must not silently apply to the new one.
_RESET_ON_REACQUIRE = {
    "route": PhoneNumber.Route.GREETING, "greeting": "", "ivr": None, "queue": None, "queue_priority": 0, "agent": None,
    "forward_to": "", "tracking_source": "", "tracking_campaign": "", "whisper": "", "record_calls": False,
}


def e164_or_refuse(value: str, *, field: str = "phone_number") -> str:
    """Normalise to E.164 or raise ``ApplicationError`` naming the field."""
    try:
        return e164_normalize(value)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], {"field": field}) from None


def _validated(number: PhoneNumber) -> None:
    try:
        number.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ApplicationError(messages[0], {"field": field, "errors": exc.message_dict}) from None


@transaction.atomic(durable=True)
def phone_number_update(*, number: PhoneNumber, data: dict) -> PhoneNumber:
    """Change a number's label, routing and tracking settings.

    ``data`` holds any of ``EDITABLE_FIELDS`` (foreign keys as instances).
    A released number can no longer be changed: it only keeps its history.
    """
    number = PhoneNumber.objects.select_for_update().get(pk=number.pk)
    if number.is_released:
        raise ApplicationError(f"{number.e164} was released; it can no longer be changed.")
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    for field, value in data.items():
        setattr(number, field, value)
    if number.forward_to:
        try:
            number.forward_to = destination_normalize(number.forward_to)
        except ValidationError as exc:
            raise ApplicationError(exc.messages[0], {"field": "forward_to"}) from None
    _validated(number)
    number.save()
    return number


@transaction.atomic(savepoint=False)
def phone_number_acquire(*, e164: str, telnyx_id: str, connection_id: str = "", details: dict | None = None
                         ) -> tuple[PhoneNumber, bool]:
    """Make a number bought or found at Telnyx ours (routable); returns ``(number, created)``.

    A row left by an earlier release of the same number is brought back
    with its routing reset, so its old calls and the new ones share it.
    """
    e164 = e164_or_refuse(e164)
    details = details or {}
    facts = {
        "telnyx_id": telnyx_id or "",
        "connection_id": connection_id or "",
        "country": details.get("country") or country_of(e164),
        "number_type": details.get("number_type") or "",
        "locality": details.get("locality") or "",
        "region": details.get("region") or "",
    }
    if details.get("features"):
        facts["features"] = list(details["features"])
    number = PhoneNumber.objects.select_for_update().filter(e164=e164).first()
    created = number is None
    if created:
        number = PhoneNumber(e164=e164, label=details.get("label") or "",
                             tracking_source=details.get("tracking_source") or "")
    elif number.is_released:
        for field, value in _RESET_ON_REACQUIRE.items():
            setattr(number, field, value)
        number.label = details.get("label") or number.label
        number.tracking_source = details.get("tracking_source") or ""
    for field, value in facts.items():
        if value:
            setattr(number, field, value)
    number.status = PhoneNumber.Status.ACTIVE
    number.released_at = None
    _validated(number)
    number.save()
    return number, created


@transaction.atomic(savepoint=False)
def phone_number_set_status(*, number: PhoneNumber, status: str) -> PhoneNumber:
    """Move a number to active / releasing / released (released keeps the row and its calls)."""
    number = PhoneNumber.objects.select_for_update().get(pk=number.pk)
    number.status = status
    number.released_at = timezone.now() if status == PhoneNumber.Status.RELEASED else None
    number.save(update_fields=["status", "released_at", "updated_at"])
    return number
