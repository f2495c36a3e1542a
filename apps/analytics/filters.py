"""The filters of the call log and the analytics, shared by pages, the REST API and the CSV.

Dates are days in the center's time zone (``TIME_ZONE``): "1 March" means
from local midnight to the next local midnight, whatever UTC says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone

from apps.calls.models import Call

NO_SOURCE = "(none)"  # the source filter value for calls whose number had no source
DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True)
class CallFilters:
    date_from: date
    date_to: date
    source: str | None = None  # None: any source; "": calls without one
    number: str = ""
    outcome: str = ""
    direction: str = ""
    first_time: bool | None = None
    caller: str = ""

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes: local midnight of date_from to the one after date_to."""
        tz = timezone.get_current_timezone()
        start = datetime.combine(self.date_from, time.min).replace(tzinfo=tz)
        end = datetime.combine(self.date_to + timedelta(days=1), time.min).replace(tzinfo=tz)
        return start, end

    def days(self) -> list[date]:
        return [self.date_from + timedelta(days=n) for n in range((self.date_to - self.date_from).days + 1)]

    def as_query(self) -> dict:
        """The filters as query parameters (for links: CSV export, pagination)."""
        query = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}
        if self.source is not None:
            query["source"] = self.source or NO_SOURCE
        for name in ("number", "outcome", "direction", "caller"):
            if getattr(self, name):
                query[name] = getattr(self, name)
        if self.first_time is not None:
            query["first_time"] = "yes" if self.first_time else "no"
        return query


def local_today() -> date:
    return timezone.localdate()


class AnalyticsFilterForm(forms.Form):
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.CharField(required=False, max_length=100, help_text=f'"{NO_SOURCE}" for calls without a source')
    number = forms.CharField(required=False, max_length=20, label="Tracking number")

    def clean(self):
        data = super().clean()
        today = local_today()
        date_to = data.get("date_to") or today
        date_from = data.get("date_from") or date_to - timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise forms.ValidationError("The start date is after the end date.")
        if (date_to - date_from).days >= MAX_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        data["date_from"], data["date_to"] = date_from, date_to
        return data

    def filters(self) -> CallFilters:
        """The validated filters (call after ``is_valid()``)."""
        data = self.cleaned_data
        source = data.get("source", "")
        return CallFilters(
            date_from=data["date_from"], date_to=data["date_to"],
            source=None if source == "" else ("" if source == NO_SOURCE else source),
            number=(data.get("number") or "").strip(),
            outcome=data.get("outcome") or "",
            direction=data.get("direction") or "",
            first_time={"yes": True, "no": False}.get(data.get("first_time") or ""),
            caller=(data.get("caller") or "").strip(),
        )


class CallLogFilterForm(AnalyticsFilterForm):
    outcome = forms.ChoiceField(required=False, choices=[("", "Any outcome"), *Call.Outcome.choices])
    direction = forms.ChoiceField(required=False, choices=[("", "Both directions"), *Call.Direction.choices])
    first_time = forms.ChoiceField(
        required=False, label="Caller", choices=[("", "New and repeat"), ("yes", "First-time"), ("no", "Repeat")]
    )
    caller = forms.CharField(required=False, max_length=100, label="Caller number or name")


def form_errors(form: forms.Form) -> dict:
    return {field or "non_field_errors": [str(e) for e in errors] for field, errors in form.errors.items()}
