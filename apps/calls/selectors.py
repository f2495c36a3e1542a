from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.calls.models import Call


def calls_live(*, recent: timedelta = timedelta(minutes=10), limit: int = 200) -> QuerySet[Call]:
    """Calls up now, plus those that ended in the last few minutes."""
    since = timezone.now() - recent
    return Call.objects.filter(~Q(status=Call.Status.ENDED) | Q(ended_at__gte=since)).order_by("-created_at")[:limit]


def call_list(*, filters: dict | None = None) -> QuerySet[Call]:
    filters = filters or {}
    qs = Call.objects.select_related("phone_number").order_by("-created_at")
    if status := filters.get("status"):
        qs = qs.filter(status=status)
    if direction := filters.get("direction"):
        qs = qs.filter(direction=direction)
    if number := filters.get("number"):
        qs = qs.filter(Q(from_number=number) | Q(to_number=number))
    return qs
