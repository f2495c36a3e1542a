"""Call log and analytics: pages, CSV export and REST API."""

from django.urls import path

from apps.analytics import apis, views

urlpatterns = [
    path("call-log/", views.call_log_page, name="call-log-page"),
    path("analytics/", views.analytics_page, name="analytics-page"),
    path("analytics/export.csv", views.analytics_csv, name="analytics-csv"),
    path("api/call-log/", apis.CallLogListApi.as_view(), name="call-log-list"),
    path("api/analytics/", apis.AnalyticsSummaryApi.as_view(), name="analytics-summary"),
]
