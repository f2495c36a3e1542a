"""REST API of numbers: admins search, order, import, edit and release them."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.agents.models import Agent
from apps.core.exceptions import ApplicationError
from apps.core.permissions import IsAdminRole
from apps.ivr.models import IvrFlow
from apps.numbers import selectors, services
from apps.numbers.models import NumberJob, PhoneNumber
from apps.numbers.numbers_api import SEARCH_FILTERS
from apps.numbers.validation import destination_normalize, e164_normalize
from apps.queues.models import Queue
from apps.telnyx.client import TelnyxError

# What Telnyx's number search filters on (``filter[features]`` and
# ``filter[phone_number_type]`` of GET /available_phone_numbers).
FEATURES = ["voice", "sms", "mms", "fax", "emergency", "hd_voice", "international_sms", "local_calling"]
NUMBER_TYPES = ["local", "toll_free", "mobile", "national", "shared_cost"]
NUMBER_TYPE_LABELS = {"local": "Local", "toll_free": "Toll-free", "mobile": "Mobile", "national": "National",
                      "shared_cost": "Shared cost"}


def _e164_field(value: str) -> str:
    try:
        return e164_normalize(value)
    except ValidationError as exc:
        raise serializers.ValidationError(exc.messages[0]) from None


class NumberOutputSerializer(serializers.ModelSerializer):
    call_count = serializers.IntegerField(read_only=True, default=None)
    route_label = serializers.CharField(source="get_route_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = PhoneNumber
        fields = [
            "id", "e164", "label", "status", "status_label", "released_at", "telnyx_id", "connection_id",
            "country", "number_type", "locality", "region", "features", "route", "route_label", "greeting",
            "ivr", "queue", "queue_priority", "agent", "forward_to", "forward_timeout", "tracking_source", "tracking_campaign",
            "whisper", "record_calls", "call_count", "created_at", "updated_at",
        ]


class NumberJobOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = NumberJob
        fields = [
            "id", "kind", "status", "step", "phone_number", "number", "error", "details", "created_at",
            "updated_at", "finished_at", "version",
        ]


class NumberListApi(APIView):
    """The center's numbers (released ones with ``status=released``). Admins."""

    permission_classes = [IsAdminRole]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=PhoneNumber.Status.choices, required=False)
        route = serializers.ChoiceField(choices=PhoneNumber.Route.choices, required=False)
        source = serializers.CharField(required=False)
        q = serializers.CharField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses=NumberOutputSerializer(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        numbers = selectors.number_list(filters=filters.validated_data)
        return Response(NumberOutputSerializer(numbers, many=True).data)


class NumberDetailApi(APIView):
    """One number; PATCH changes its label, routing and tracking settings. Admins."""

    permission_classes = [IsAdminRole]

    @extend_schema_serializer(component_name="NumberUpdate")
    class InputSerializer(serializers.Serializer):
        label = serializers.CharField(max_length=100, required=False, allow_blank=True)
        route = serializers.ChoiceField(choices=PhoneNumber.Route.choices, required=False)
        greeting = serializers.CharField(required=False, allow_blank=True)
        ivr = serializers.PrimaryKeyRelatedField(queryset=IvrFlow.objects.all(), required=False, allow_null=True)
        queue = serializers.PrimaryKeyRelatedField(
            queryset=Queue.objects.all(), required=False, allow_null=True,
            help_text="Queue route: the queue. Agent route: where callers wait and fall back to "
                      "(empty: the agent's first queue).",
        )
        queue_priority = serializers.IntegerField(
            min_value=0, max_value=100, required=False,
            help_text="Queue route: caller priority (higher is served before those who waited longer).",
        )
        agent = serializers.PrimaryKeyRelatedField(queryset=Agent.objects.all(), required=False, allow_null=True,
                                                   help_text="Agent route: the agent this line rings.")
        forward_to = serializers.CharField(max_length=255, required=False, allow_blank=True)
        forward_timeout = serializers.IntegerField(min_value=5, max_value=120, required=False)
        tracking_source = serializers.CharField(max_length=100, required=False, allow_blank=True)
        tracking_campaign = serializers.CharField(max_length=100, required=False, allow_blank=True)
        whisper = serializers.CharField(max_length=300, required=False, allow_blank=True)
        record_calls = serializers.BooleanField(required=False)

        def validate_forward_to(self, value: str) -> str:
            if not value:
                return value
            try:
                return destination_normalize(value)
            except ValidationError as exc:
                raise serializers.ValidationError(exc.messages[0]) from None

    @extend_schema(responses=NumberOutputSerializer)
    def get(self, request, number_id: int):
        number = get_object_or_404(PhoneNumber, pk=number_id)
        return Response(NumberOutputSerializer(number).data)

    @extend_schema(request=InputSerializer, responses=NumberOutputSerializer)
    def patch(self, request, number_id: int):
        number = get_object_or_404(PhoneNumber, pk=number_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        number = services.phone_number_update(number=number, data=data.validated_data)
        return Response(NumberOutputSerializer(number).data)


class NumberReleaseApi(APIView):
    """Release a number at Telnyx (a job, 202). Its calls stay in the log. Admins."""

    permission_classes = [IsAdminRole]

    @extend_schema(request=None, responses={202: NumberJobOutputSerializer})
    def post(self, request, number_id: int):
        number = get_object_or_404(PhoneNumber, pk=number_id)
        job = services.number_release_start(number=number, user=request.user)
        return Response(NumberJobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class NumberSearchApi(APIView):
    """Search Telnyx's inventory of numbers for sale. Admins.

    Answered synchronously (a read with a short timeout): numbers the center
    already owns are left out.
    """

    permission_classes = [IsAdminRole]

    class FilterSerializer(serializers.Serializer):
        country_code = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, default="US")
        national_destination_code = serializers.RegexField(r"^\d{1,5}$", required=False, label="area code")
        locality = serializers.CharField(max_length=100, required=False)
        administrative_area = serializers.CharField(max_length=100, required=False, label="state or province")
        rate_center = serializers.CharField(max_length=100, required=False)
        phone_number_type = serializers.ChoiceField(choices=NUMBER_TYPES, required=False)
        features = serializers.ListField(child=serializers.ChoiceField(choices=FEATURES), required=False)
        quickship = serializers.BooleanField(required=False, default=False)
        best_effort = serializers.BooleanField(required=False, default=False)
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=20)

    @extend_schema_serializer(component_name="AvailableNumber")
    class OutputSerializer(serializers.Serializer):
        phone_number = serializers.CharField()
        country = serializers.CharField()
        locality = serializers.CharField()
        region = serializers.CharField()
        rate_center = serializers.CharField()
        number_type = serializers.CharField()
        features = serializers.ListField(child=serializers.CharField())
        quickship = serializers.BooleanField()
        best_effort = serializers.BooleanField()
        monthly_cost = serializers.CharField()
        upfront_cost = serializers.CharField()
        currency = serializers.CharField()

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = {k: v for k, v in filters.validated_data.items() if k in SEARCH_FILTERS}
        wanted["country_code"] = wanted.get("country_code", "US").upper()
        try:
            found = selectors.inventory_search(filters=wanted)
        except TelnyxError as exc:
            from apps.numbers.services.jobs import telnyx_message

            raise ApplicationError(f"Telnyx did not answer the search: {telnyx_message(exc)}") from None
        return Response(self.OutputSerializer(found, many=True).data)


class NumberOrderApi(APIView):
    """Order a number found by the search (a job, 202): bought, made ours, assigned. Admins."""

    permission_classes = [IsAdminRole]

    @extend_schema_serializer(component_name="NumberOrderRequest")
    class InputSerializer(serializers.Serializer):
        phone_number = serializers.CharField(max_length=30)
        label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        tracking_source = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        # The search row it came from: only describes the new number.
        country = serializers.CharField(max_length=2, required=False, allow_blank=True)
        locality = serializers.CharField(max_length=100, required=False, allow_blank=True)
        region = serializers.CharField(max_length=100, required=False, allow_blank=True)
        number_type = serializers.ChoiceField(choices=NUMBER_TYPES, required=False, allow_blank=True)
        # Whatever the search row listed, kept as a description of the number: Telnyx may
        # list features the search cannot filter on, and refusing them would refuse the order.
        features = serializers.ListField(child=serializers.CharField(max_length=50), required=False,
                                         max_length=30)

        def validate_phone_number(self, value: str) -> str:
            return _e164_field(value)

    @extend_schema(request=InputSerializer, responses={202: NumberJobOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        job = services.number_order_start(
            phone_number=values.pop("phone_number"), user=request.user, label=values.pop("label"),
            tracking_source=values.pop("tracking_source"), found=values,
        )
        return Response(NumberJobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class NumberImportApi(APIView):
    """Import the numbers the Telnyx account already has (a job, 202). Admins."""

    permission_classes = [IsAdminRole]

    @extend_schema_serializer(component_name="NumberImportRequest")
    class InputSerializer(serializers.Serializer):
        assign = serializers.BooleanField(required=False, default=False,
                                          help_text="Also point the imported numbers at this center's connection.")

    @extend_schema(request=InputSerializer, responses={202: NumberJobOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.numbers_import_start(user=request.user, assign=data.validated_data["assign"])
        return Response(NumberJobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class NumberJobListApi(APIView):
    """Your recent number jobs (orders, imports, releases), newest first. Admins."""

    permission_classes = [IsAdminRole]

    @extend_schema(responses=NumberJobOutputSerializer(many=True))
    def get(self, request):
        return Response(NumberJobOutputSerializer(selectors.number_job_list(user=request.user), many=True).data)


class NumberJobRetryApi(APIView):
    """Run one of your failed number jobs again, from where it stopped (202). Admins.

    An order is not placed twice: the retry finds an order that reached
    Telnyx, or the number already on the account, before ordering again.
    """

    permission_classes = [IsAdminRole]

    @extend_schema(request=None, responses={202: NumberJobOutputSerializer})
    def post(self, request, job_id: int):
        job = get_object_or_404(NumberJob, pk=job_id, created_by=request.user)
        job = services.number_job_retry(job=job, user=request.user)
        return Response(NumberJobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class NumberJobDetailApi(APIView):
    """One of your number jobs: the polling fallback of the live updates. Admins."""

    permission_classes = [IsAdminRole]

    @extend_schema(responses=NumberJobOutputSerializer)
    def get(self, request, job_id: int):
        job = get_object_or_404(NumberJob, pk=job_id, created_by=request.user)
        return Response(NumberJobOutputSerializer(job).data)
