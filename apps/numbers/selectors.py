"""Reading numbers, their jobs, and Telnyx's inventory."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from apps.numbers import numbers_api
from apps.numbers.models import NumberJob, PhoneNumber


def number_list(*, filters: dict | None = None) -> QuerySet[PhoneNumber]:
    """Numbers with how many calls each had; released ones only when asked (``status``)."""
    filters = filters or {}
    qs = PhoneNumber.objects.select_related("ivr", "queue", "agent__user").annotate(
        call_count=Count("calls", filter=Q(calls__parent__isnull=True))
    )
    status = filters.get("status")
    qs = qs.filter(status=status) if status else qs.routable()
    if route := filters.get("route"):
        qs = qs.filter(route=route)
    if source := filters.get("source"):
        qs = qs.filter(tracking_source=source)
    if q := (filters.get("q") or "").strip():
        qs = qs.filter(Q(e164__icontains=q) | Q(label__icontains=q) | Q(tracking_source__icontains=q))
    return qs.order_by("e164")


def number_job_list(*, user, limit: int = 20) -> QuerySet[NumberJob]:
    """The user's recent number jobs, newest first (what their numbers page follows)."""
    return NumberJob.objects.filter(created_by=user).order_by("-created_at")[:limit]


def inventory_search(*, filters: dict) -> list[numbers_api.AvailableNumber]:
    """Numbers for sale at Telnyx, minus those the center already owns.

    A synchronous read with a short timeout, made in the API view: the admin
    is waiting for the answer, a search changes nothing, and a task would only
    add a broker round trip and somewhere to keep the result.
    """
    found = numbers_api.inventory_search(filters)
    owned = set(
        PhoneNumber.objects.routable().filter(e164__in=[n.phone_number for n in found]).values_list("e164", flat=True)
    )
    return [n for n in found if n.phone_number not in owned]
