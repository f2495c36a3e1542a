"""REST API of the call log and the analytics. Supervisors and admins."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.analytics.filters import NO_SOURCE, AnalyticsFilterForm, CallLogFilterForm, form_errors
from apps.analytics.selectors import analytics_summary, call_log_list, call_recordings
from apps.calls.models import Call
from apps.core.permissions import IsSupervisorRole

_DATE_PARAMS = [
    OpenApiParameter("date_from", str, description="First day (YYYY-MM-DD) in the center's time zone; "
                                                   "default: 29 days before date_to"),
    OpenApiParameter("date_to", str, description="Last day (YYYY-MM-DD), included; default: today"),
    OpenApiParameter("source", str, description=f'Tracking source; "{NO_SOURCE}" for calls without one'),
    OpenApiParameter("number", str, description="Tracking number (E.164)"),
]
_LOG_PARAMS = [
    OpenApiParameter("outcome", str, enum=Call.Outcome.values),
    OpenApiParameter("direction", str, enum=Call.Direction.values),
    OpenApiParameter("first_time", str, enum=["yes", "no"]),
    OpenApiParameter("caller", str, description="Part of the caller's number or name"),
]


def _filters(form_class, params):
    form = form_class(params)
    if not form.is_valid():
        raise ValidationError(form_errors(form))
    return form.filters()


class CallLogOutputSerializer(serializers.ModelSerializer):
    tracking_number = serializers.CharField(source="phone_number.e164", default=None)
    tracking_label = serializers.CharField(source="phone_number.label", default=None)
    outcome = serializers.CharField(source="caller_outcome")
    answered_at = serializers.DateTimeField(source="caller_answered_at")
    recordings = serializers.SerializerMethodField()
    detail_url = serializers.SerializerMethodField()

    class Meta:
        model = Call
        fields = [
            "id", "direction", "from_number", "caller_name", "first_time_caller", "to_number", "tracking_number",
            "tracking_label", "tracking_source", "tracking_campaign", "destination", "status", "outcome",
            "initiated_at", "answered_at", "ended_at", "talk_seconds", "recordings", "detail_url",
        ]

    def get_recordings(self, call) -> list[dict]:
        return [
            {"id": r.pk, "purpose": r.purpose, "url": reverse("recording-audio", args=[r.pk])}
            for r in call_recordings(call)
        ]

    def get_detail_url(self, call) -> str:
        return reverse("call-detail-page", args=[call.pk])


class CallLogListApi(ListAPIView):
    """The call log: inbound and outbound calls, newest first, with their source and outcome."""

    permission_classes = [IsSupervisorRole]
    serializer_class = CallLogOutputSerializer

    def get_queryset(self):
        return call_log_list(filters=_filters(CallLogFilterForm, self.request.query_params))

    @extend_schema(parameters=_DATE_PARAMS + _LOG_PARAMS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema_serializer(component_name="AnalyticsFigures")
class _FiguresSerializer(serializers.Serializer):
    calls = serializers.IntegerField()
    answered = serializers.IntegerField(help_text="Calls a person (an agent, a forward's destination) answered")
    answer_rate = serializers.FloatField(allow_null=True, help_text="Percent of calls answered, one decimal")
    avg_talk_seconds = serializers.FloatField(allow_null=True, help_text="Average talk time of answered calls")
    talk_seconds = serializers.IntegerField(help_text="Total talk time of answered calls")
    first_time_callers = serializers.IntegerField()
    no_answer = serializers.IntegerField()
    busy = serializers.IntegerField()
    failed = serializers.IntegerField()
    abandoned = serializers.IntegerField()
    self_service = serializers.IntegerField(
        help_text="Calls the greeting, an IVR or a voicemail box handled without a person answering")


@extend_schema_serializer(component_name="AnalyticsRow")
class _RowSerializer(_FiguresSerializer):
    key = serializers.CharField(help_text="Source, E.164 number or YYYY-MM-DD")
    label = serializers.CharField()


class AnalyticsSummaryApi(APIView):
    """Calls per source, per tracking number and per day, with answer rates, talk times
    and first-time callers: the figures of the analytics page (ended inbound calls)."""

    permission_classes = [IsSupervisorRole]

    @extend_schema_serializer(component_name="AnalyticsSummary")
    class OutputSerializer(serializers.Serializer):
        date_from = serializers.DateField()
        date_to = serializers.DateField()
        time_zone = serializers.CharField()
        source = serializers.CharField(allow_null=True)
        number = serializers.CharField(allow_null=True)
        totals = _FiguresSerializer()
        by_source = _RowSerializer(many=True)
        by_number = _RowSerializer(many=True)
        by_day = _RowSerializer(many=True)

    @extend_schema(parameters=_DATE_PARAMS, responses=OutputSerializer)
    def get(self, request):
        summary = analytics_summary(filters=_filters(AnalyticsFilterForm, request.query_params))
        return Response(self.OutputSerializer(summary.as_dict()).data)
