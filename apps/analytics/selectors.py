"""Reading the call log, and the analytics figures computed from it in the database.

The call log lists calls as callers lived them: one row per inbound call
(the legs we dialled for it, e.g. a forward, are part of that row) and one
per outbound call we placed. Analytics count the inbound calls to the
center's numbers that have ended; a call in progress counts once it ends.

"Answered" means a person answered (an agent, a forward's destination):
calls the greeting, an IVR or a voicemail box handled alone are counted as
self-service, not as answered (see ``Call``), so a line that only plays an
after-hours message does not show a 100 % answer rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.analytics.filters import CallFilters
from apps.calls.models import Call
from apps.recordings.models import Recording

ANSWERED = Q(caller_outcome=Call.Outcome.ANSWERED)
UNANSWERED_OUTCOMES = (
    Call.Outcome.NO_ANSWER, Call.Outcome.BUSY, Call.Outcome.FAILED, Call.Outcome.ABANDONED, Call.Outcome.SELF_SERVICE,
)


# --- the call log -----------------------------------------------------------------
def _filtered(qs: QuerySet[Call], filters: CallFilters) -> QuerySet[Call]:
    start, end = filters.bounds()
    qs = qs.filter(initiated_at__gte=start, initiated_at__lt=end)
    if filters.source is not None:
        qs = qs.filter(tracking_source=filters.source)
    if filters.number:
        qs = qs.filter(phone_number__e164=filters.number)
    if filters.outcome:
        qs = qs.filter(caller_outcome=filters.outcome)
    if filters.direction:
        qs = qs.filter(direction=filters.direction)
    if filters.first_time is not None:
        qs = qs.filter(first_time_caller=filters.first_time)
    if filters.caller:
        qs = qs.filter(Q(from_number__icontains=filters.caller) | Q(caller_name__icontains=filters.caller))
    return qs


def call_log_list(*, filters: CallFilters) -> QuerySet[Call]:
    """Top-level calls (not the legs we dialled for them), newest first, with their recordings."""
    stored = Recording.objects.filter(status=Recording.Status.STORED).order_by("created_at")
    qs = (
        Call.objects.filter(parent__isnull=True)
        .select_related("phone_number")
        .prefetch_related(
            Prefetch("recordings", queryset=stored, to_attr="stored_recordings"),
            Prefetch(
                "legs",
                queryset=Call.objects.order_by("created_at").prefetch_related(
                    Prefetch("recordings", queryset=stored, to_attr="stored_recordings")
                ),
                to_attr="dialled_legs",
            ),
        )
        .order_by("-initiated_at", "-pk")
    )
    return _filtered(qs, filters)


def call_recordings(call: Call) -> list[Recording]:
    """Stored recordings of a call from ``call_log_list`` (those of its legs too)."""
    found = list(getattr(call, "stored_recordings", []))
    for leg in getattr(call, "dialled_legs", []):
        found += list(getattr(leg, "stored_recordings", []))
    return found


def tracking_sources() -> list[str]:
    """Every source calls have been tracked under (for the filter's choices)."""
    return list(
        Call.objects.exclude(tracking_source="").order_by("tracking_source")
        .values_list("tracking_source", flat=True).distinct()
    )


# --- analytics ----------------------------------------------------------------------
@dataclass
class Figures:
    calls: int = 0
    answered: int = 0
    talk_seconds: int = 0
    first_time_callers: int = 0
    no_answer: int = 0
    busy: int = 0
    failed: int = 0
    abandoned: int = 0
    self_service: int = 0

    @property
    def answer_rate(self) -> float | None:
        """Calls a person answered in percent of calls, one decimal (None without calls)."""
        return round(100 * self.answered / self.calls, 1) if self.calls else None

    @property
    def avg_talk_seconds(self) -> float | None:
        """Average talk time of the answered calls, one decimal (None without any)."""
        return round(self.talk_seconds / self.answered, 1) if self.answered else None

    def as_dict(self) -> dict:
        return {
            "calls": self.calls, "answered": self.answered, "answer_rate": self.answer_rate,
            "avg_talk_seconds": self.avg_talk_seconds, "talk_seconds": self.talk_seconds,
            "first_time_callers": self.first_time_callers, "no_answer": self.no_answer, "busy": self.busy,
            "failed": self.failed, "abandoned": self.abandoned, "self_service": self.self_service,
        }


@dataclass
class Row:
    key: str
    label: str
    figures: Figures


@dataclass
class Summary:
    filters: CallFilters
    totals: Figures
    by_source: list[Row] = field(default_factory=list)
    by_number: list[Row] = field(default_factory=list)
    by_day: list[Row] = field(default_factory=list)

    def as_dict(self) -> dict:
        def rows(items):
            return [{"key": r.key, "label": r.label, **r.figures.as_dict()} for r in items]

        return {
            "date_from": self.filters.date_from, "date_to": self.filters.date_to,
            "time_zone": timezone.get_current_timezone_name(),
            "source": self.filters.source, "number": self.filters.number or None,
            "totals": self.totals.as_dict(),
            "by_source": rows(self.by_source), "by_number": rows(self.by_number), "by_day": rows(self.by_day),
        }


def _aggregates() -> dict:
    return {
        "calls": Count("pk"),
        "answered": Count("pk", filter=ANSWERED),
        "talk_seconds": Sum("talk_seconds", filter=ANSWERED, default=0),
        "first_time_callers": Count("pk", filter=Q(first_time_caller=True)),
        **{outcome: Count("pk", filter=Q(caller_outcome=outcome)) for outcome in UNANSWERED_OUTCOMES},
    }


def _figures(values: dict) -> Figures:
    return Figures(**{name: int(values.get(name) or 0) for name in Figures.__dataclass_fields__})


def analytics_calls(*, filters: CallFilters) -> QuerySet[Call]:
    """The calls analytics count: ended inbound calls to the center's numbers."""
    qs = Call.objects.filter(
        direction=Call.Direction.INBOUND, parent__isnull=True, phone_number__isnull=False,
        status=Call.Status.ENDED,
    )
    return _filtered(qs, filters)


def analytics_summary(*, filters: CallFilters) -> Summary:
    """Totals, and the same figures per source, per tracking number and per local day."""
    qs = analytics_calls(filters=filters)
    aggregates = _aggregates()
    totals = _figures(qs.aggregate(**aggregates))
    by_source = [
        Row(key=row["tracking_source"], label=row["tracking_source"] or "(no source)", figures=_figures(row))
        for row in qs.values("tracking_source").annotate(**aggregates).order_by("-calls", "tracking_source")
    ]
    by_number = [
        Row(key=row["phone_number__e164"], label=_number_label(row), figures=_figures(row))
        for row in qs.values("phone_number__e164", "phone_number__label", "phone_number__status")
        .annotate(**aggregates).order_by("-calls", "phone_number__e164")
    ]
    per_day = {
        row["day"]: _figures(row)
        for row in qs.annotate(day=TruncDate("initiated_at", tzinfo=timezone.get_current_timezone()))
        .values("day").annotate(**aggregates).order_by("day")
    }
    by_day = [Row(key=d.isoformat(), label=_day_label(d), figures=per_day.get(d, Figures()))
              for d in filters.days()]
    return Summary(filters=filters, totals=totals, by_source=by_source, by_number=by_number, by_day=by_day)


def _number_label(row: dict) -> str:
    label = row["phone_number__e164"]
    if row["phone_number__label"]:
        label += f" ({row['phone_number__label']})"
    if row["phone_number__status"] == "released":
        label += " [released]"
    return label


def _day_label(day: date) -> str:
    return day.strftime("%a %d %b %Y")
