"""Pages of the call log and the analytics (supervisors and admins), and the CSV export."""

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode

from apps.analytics.export import summary_csv
from apps.analytics.filters import NO_SOURCE, AnalyticsFilterForm, CallLogFilterForm
from apps.analytics.selectors import (
    analytics_summary,
    call_log_list,
    call_recordings,
    tracking_sources,
)
from apps.core.decorators import role_required
from apps.core.roles import Role

PAGE_SIZE = 50


def _valid_form(form_class, params):
    """The bound form and its filters; invalid input falls back to the defaults (errors shown)."""
    form = form_class(params)
    if form.is_valid():
        return form, form.filters()
    fallback = form_class({})
    fallback.is_valid()
    return form, fallback.filters()


@role_required(Role.SUPERVISOR)
def call_log_page(request):
    form, filters = _valid_form(CallLogFilterForm, request.GET)
    page = Paginator(call_log_list(filters=filters), PAGE_SIZE).get_page(request.GET.get("page"))
    for call in page.object_list:
        call.log_recordings = call_recordings(call)
    return render(request, "calls/call_log.html", {
        "form": form, "filters": filters, "page": page, "sources": tracking_sources(),
        "no_source": NO_SOURCE, "query": urlencode(filters.as_query()),
    })


@role_required(Role.SUPERVISOR)
def analytics_page(request):
    form, filters = _valid_form(AnalyticsFilterForm, request.GET)
    summary = analytics_summary(filters=filters)
    tables = [
        ("source", "By source", summary.by_source),
        ("number", "By tracking number", summary.by_number),
        ("day", "By day", summary.by_day),
    ]
    chart = {
        "days": [{"label": r.key, "answered": r.figures.answered, "unanswered": r.figures.calls - r.figures.answered}
                 for r in summary.by_day],
        "sources": [{"label": r.label, "calls": r.figures.calls, "answered": r.figures.answered}
                    for r in summary.by_source],
    }
    return render(request, "analytics/analytics.html", {
        "form": form, "filters": filters, "summary": summary, "tables": tables, "chart": chart,
        "sources": tracking_sources(), "no_source": NO_SOURCE, "query": urlencode(filters.as_query()),
        "time_zone": timezone.get_current_timezone_name(),
    })


@role_required(Role.SUPERVISOR)
def analytics_csv(request):
    _, filters = _valid_form(AnalyticsFilterForm, request.GET)
    body = summary_csv(analytics_summary(filters=filters))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    name = f"call-analytics-{filters.date_from.isoformat()}-{filters.date_to.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
