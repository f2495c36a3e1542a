from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.calls.models import Call, CallEvent
from apps.calls.selectors import call_list
from apps.core.permissions import IsSupervisorRole


class CallOutputSerializer(serializers.ModelSerializer):
    talk_seconds = serializers.IntegerField(read_only=True)
    phone_number = serializers.CharField(source="phone_number.e164", default=None)

    class Meta:
        model = Call
        fields = [
            "id", "call_control_id", "call_leg_id", "call_session_id", "direction", "from_number",
            "to_number", "caller_name", "phone_number", "status", "outcome", "flow", "initiated_at",
            "answered_at", "ended_at", "talk_seconds", "hangup_cause", "hangup_source", "version",
        ]


class CallListApi(ListAPIView):
    """Calls, newest first. Supervisors and admins."""

    permission_classes = [IsSupervisorRole]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Call.Status.choices, required=False)
        direction = serializers.ChoiceField(choices=Call.Direction.choices, required=False)
        number = serializers.CharField(required=False)

    serializer_class = CallOutputSerializer

    def get_queryset(self):
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return call_list(filters=filters.validated_data)


class CallDetailApi(APIView):
    """One call with its event log."""

    permission_classes = [IsSupervisorRole]

    class EventSerializer(serializers.ModelSerializer):
        actor = serializers.CharField(source="actor.username", default=None)

        class Meta:
            model = CallEvent
            fields = ["kind", "occurred_at", "old_status", "new_status", "source", "actor", "data"]

    class OutputSerializer(CallOutputSerializer):
        events = serializers.SerializerMethodField()

        class Meta(CallOutputSerializer.Meta):
            fields = CallOutputSerializer.Meta.fields + ["events"]

        def get_events(self, call) -> list[dict]:
            return CallDetailApi.EventSerializer(call.events.select_related("actor"), many=True).data

    @extend_schema(responses=OutputSerializer)
    def get(self, request, call_id: int):
        call = get_object_or_404(Call, pk=call_id)
        return Response(self.OutputSerializer(call).data)
