"""Today's queue figures: the service level is the share of today's callers answered within the threshold."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.queues.models import QueueEntry
from apps.queues.selectors import queue_stats
from tests.factories import CallFactory
from tests.queues.conftest import make_queue

pytestmark = pytest.mark.django_db


def _left(queue, *, waited: int | None, reason: str, left_at=None) -> QueueEntry:
    """A caller who joined, waited ``waited`` seconds to be answered (None: never), and left."""
    # Earlier today, even just after the center's midnight.
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(minutes=1)
    left_at = left_at or max(timezone.now() - timedelta(minutes=5), today)
    joined = left_at - timedelta(seconds=(waited or 60) + 120)
    entry = QueueEntry.objects.create(call=CallFactory(), queue=queue, status=QueueEntry.Status.LEFT,
                                      leave_reason=reason, left_at=left_at,
                                      answered_at=joined + timedelta(seconds=waited) if waited is not None else None)
    QueueEntry.objects.filter(pk=entry.pk).update(created_at=joined)
    return entry


def test_the_service_level_counts_todays_callers_answered_within_the_threshold(settings):
    settings.TIME_ZONE = "America/Chicago"
    queue = make_queue("Sales", line=None, service_level_secs=20)
    _left(queue, waited=10, reason="answered")
    _left(queue, waited=19, reason="answered")
    _left(queue, waited=45, reason="answered")
    _left(queue, waited=None, reason="hangup")
    # Yesterday evening in Chicago, though already "today" in UTC for most of the day.
    local_midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    _left(queue, waited=5, reason="answered", left_at=local_midnight - timedelta(minutes=30))

    stats = queue_stats(queue)
    assert stats["today"] == {"answered": 3, "within": 2, "abandoned": 1, "total": 4}
    assert stats["service_level"] == 50
