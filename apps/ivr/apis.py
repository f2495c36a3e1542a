"""REST API of IVR flows: admins change them, supervisors read them, agents read call paths.

A flow is exchanged whole (settings plus every node) so the builder saves it
in one request and the flow is checked as a graph. A refused save answers 400
with ``{"message": "...", "extra": {"errors": [{"node", "field", "message", "text"}]}}``;
each error names the node it is about.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.calls.models import Call
from apps.core.exceptions import ApplicationError
from apps.core.permissions import IsAdminRole, IsAgentOrSupervisor, IsSupervisorRole
from apps.ivr import services
from apps.ivr.hours import time_zones
from apps.ivr.models import IvrFlow, IvrNode, IvrStep
from apps.ivr.prompts import LANGUAGES
from apps.ivr.selectors import ivr_choices, ivr_flow_document, ivr_flow_list, ivr_path, ivr_path_visible_to
from apps.ivr.validation import Problem
from apps.numbers.models import PhoneNumber


# --- The flow document ------------------------------------------------------------
class PromptSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["tts", "audio"])
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    voice = serializers.CharField(required=False, allow_blank=True)
    language = serializers.CharField(required=False, allow_blank=True)
    url = serializers.CharField(required=False, allow_blank=True)


class OptionSerializer(serializers.Serializer):
    digits = serializers.CharField(allow_blank=True)
    speech = serializers.CharField(required=False, allow_blank=True, default="")
    next = serializers.CharField(allow_blank=True)


class HoursSerializer(serializers.Serializer):
    timezone = serializers.CharField(allow_blank=True)
    weekly = serializers.DictField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.CharField())), required=False,
        help_text='{"mon": [["09:00", "17:00"]], ...}; missing days are closed.',
    )
    holidays = serializers.ListField(child=serializers.CharField(), required=False, help_text="YYYY-MM-DD dates.")


class NodeSerializer(serializers.Serializer):
    key = serializers.CharField(allow_blank=True, max_length=40)
    kind = serializers.ChoiceField(choices=IvrNode.Kind.choices)
    name = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    prompt = PromptSerializer(required=False, allow_null=True)
    # menu
    options = OptionSerializer(many=True, required=False)
    invalid_prompt = PromptSerializer(required=False, allow_null=True)
    timeout_prompt = PromptSerializer(required=False, allow_null=True)
    timeout_secs = serializers.IntegerField(required=False, help_text="Menu: wait for keys. Forward: ring time.")
    max_tries = serializers.IntegerField(required=False)
    speech = serializers.BooleanField(required=False, help_text="Menu: callers may also say an option.")
    fallback = serializers.CharField(required=False, allow_blank=True, help_text="Menu: node after the last try.")
    # message
    next = serializers.CharField(required=False, allow_blank=True, help_text="Message: next node (empty: hang up).")
    # queue, voicemail
    queue = serializers.IntegerField(required=False, allow_null=True)
    priority = serializers.IntegerField(
        required=False, help_text="Enqueue: caller priority, 0-100 (higher is served before those who waited longer)."
    )
    # forward
    to = serializers.CharField(required=False, allow_blank=True, help_text="Forward: E.164 number or SIP URI.")
    no_answer = serializers.CharField(required=False, allow_blank=True)
    # voicemail
    max_length_secs = serializers.IntegerField(required=False)
    finish_key = serializers.CharField(required=False, allow_blank=True, max_length=1)
    # business hours
    hours = HoursSerializer(required=False, allow_null=True)
    open = serializers.CharField(required=False, allow_blank=True)
    closed = serializers.CharField(required=False, allow_blank=True)


class FlowInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    entry = serializers.CharField(allow_blank=True, max_length=40)
    fallback = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
    max_steps = serializers.IntegerField(required=False, default=50)
    voice = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    language = serializers.CharField(required=False, allow_blank=True, max_length=10, default="")
    nodes = NodeSerializer(many=True)


class FlowOutputSerializer(FlowInputSerializer):
    class NumberSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        e164 = serializers.CharField()
        label = serializers.CharField()

    id = serializers.IntegerField()
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()
    numbers = NumberSerializer(many=True)


class FlowSummarySerializer(serializers.ModelSerializer):
    entry = serializers.CharField(source="entry_key")
    node_count = serializers.IntegerField()
    numbers = serializers.SerializerMethodField()

    class Meta:
        model = IvrFlow
        fields = ["id", "name", "description", "entry", "node_count", "version", "updated_at", "numbers"]

    def get_numbers(self, flow) -> list[str]:
        return [n.e164 for n in flow.numbers.all()]


def _parsed(serializer_class, data) -> dict:
    """Validate input, turning field errors into the same node-named problems as the service's."""
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        return serializer.validated_data
    nodes = data.get("nodes") if isinstance(data, dict) and isinstance(data.get("nodes"), list) else []
    problems = []
    for field, errors in serializer.errors.items():
        # Per-node errors come keyed by index (a dict, or a list with gaps).
        per_node = errors.items() if isinstance(errors, dict) else enumerate(errors)
        if field == "nodes" and not (isinstance(errors, list) and errors and isinstance(errors[0], str)):
            for index, node_errors in per_node:
                if not node_errors:
                    continue
                index = int(index)
                node = nodes[index] if index < len(nodes) and isinstance(nodes[index], dict) else {}
                key = str(node.get("key") or f"#{index + 1}")
                problems += [Problem(key, path, f"{path}: {message}", str(node.get("name") or ""))
                             for path, message in _flatten(node_errors)]
        else:
            problems += [Problem("", path, f"{path}: {message}") for path, message in _flatten(errors, field)]
    raise ApplicationError(
        f"The flow was not saved. {problems[0].text()}" if problems else "The flow was not saved.",
        {"errors": [p.as_dict() for p in problems]},
    )


def _flatten(errors, prefix: str = ""):
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(errors, list) and errors and not isinstance(errors[0], str):
        for index, value in enumerate(errors):
            if value:
                yield from _flatten(value, f"{prefix}.{index}")
    else:
        for message in errors if isinstance(errors, list) else [errors]:
            yield prefix or "flow", str(message)


def _by_method(request, readers, writers):
    return [permission() for permission in (readers if request.method in ("GET", "HEAD", "OPTIONS") else writers)]


# --- Flows ----------------------------------------------------------------------------
class IvrFlowListApi(APIView):
    """IVR flows. Supervisors and admins read; admins create."""

    def get_permissions(self):
        return _by_method(self.request, [IsSupervisorRole], [IsAdminRole])

    @extend_schema(responses=FlowSummarySerializer(many=True))
    def get(self, request):
        return Response(FlowSummarySerializer(ivr_flow_list(), many=True).data)

    @extend_schema(request=FlowInputSerializer, responses={201: FlowOutputSerializer})
    def post(self, request):
        data = _parsed(FlowInputSerializer, request.data)
        flow = services.ivr_flow_create(user=request.user, **data)
        return Response(FlowOutputSerializer(ivr_flow_document(flow)).data, status=status.HTTP_201_CREATED)


class IvrFlowDetailApi(APIView):
    """One flow with all its nodes. Supervisors and admins read; admins replace or delete it."""

    class InputSerializer(FlowInputSerializer):
        version = serializers.IntegerField(required=False, help_text="The version you loaded (stale saves are refused).")

        class Meta:
            ref_name = "IvrFlowUpdateInput"

    def get_permissions(self):
        return _by_method(self.request, [IsSupervisorRole], [IsAdminRole])

    @extend_schema(responses=FlowOutputSerializer)
    def get(self, request, flow_id: int):
        flow = get_object_or_404(IvrFlow, pk=flow_id)
        return Response(FlowOutputSerializer(ivr_flow_document(flow)).data)

    @extend_schema(request=InputSerializer, responses=FlowOutputSerializer)
    def put(self, request, flow_id: int):
        flow = get_object_or_404(IvrFlow, pk=flow_id)
        data = _parsed(self.InputSerializer, request.data)
        flow = services.ivr_flow_update(flow=flow, user=request.user, **data)
        return Response(FlowOutputSerializer(ivr_flow_document(flow)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, flow_id: int):
        services.ivr_flow_delete(flow=get_object_or_404(IvrFlow, pk=flow_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class IvrFlowNumberAssignApi(APIView):
    """Route one of our numbers to this flow. Admins."""

    permission_classes = [IsAdminRole]

    class InputSerializer(serializers.Serializer):
        number = serializers.IntegerField(help_text="Phone number id.")

        class Meta:
            ref_name = "IvrFlowNumberAssignInput"

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = PhoneNumber
            fields = ["id", "e164", "label", "route", "ivr"]
            ref_name = "IvrFlowNumber"

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, flow_id: int):
        flow = get_object_or_404(IvrFlow, pk=flow_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        number = get_object_or_404(PhoneNumber, pk=serializer.validated_data["number"])
        number = services.ivr_flow_number_assign(flow=flow, number=number)
        return Response(self.OutputSerializer(number).data)


class IvrFlowNumberReleaseApi(APIView):
    """Stop routing a number to this flow (it returns to the greeting route). Admins."""

    permission_classes = [IsAdminRole]

    @extend_schema(responses=IvrFlowNumberAssignApi.OutputSerializer)
    def delete(self, request, flow_id: int, number_id: int):
        flow = get_object_or_404(IvrFlow, pk=flow_id)
        number = services.ivr_flow_number_release(flow=flow, number=get_object_or_404(PhoneNumber, pk=number_id))
        return Response(IvrFlowNumberAssignApi.OutputSerializer(number).data)


class IvrChoicesApi(APIView):
    """What the flow builder offers: queues, numbers, node kinds, languages, time zones. Admins."""

    permission_classes = [IsAdminRole]

    class OutputSerializer(serializers.Serializer):
        queues = serializers.ListField(child=serializers.DictField())
        numbers = serializers.ListField(child=serializers.DictField())
        kinds = serializers.ListField(child=serializers.DictField())
        languages = serializers.ListField(child=serializers.CharField())
        time_zones = serializers.ListField(child=serializers.CharField())

        class Meta:
            ref_name = "IvrChoices"

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response({**ivr_choices(), "languages": list(LANGUAGES), "time_zones": time_zones()})


# --- Paths of calls --------------------------------------------------------------------
class IvrCallPathApi(APIView):
    """The IVR path of a call: each menu it went through and what the caller pressed or said.

    Supervisors and admins, any call; agents, the calls offered to them (404 for the others).
    """

    permission_classes = [IsAgentOrSupervisor]

    class OutputSerializer(serializers.ModelSerializer):
        flow = serializers.CharField(source="flow.name", default=None)

        class Meta:
            model = IvrStep
            fields = ["step", "flow", "node_key", "node_kind", "node_name", "attempt", "digits", "speech",
                      "outcome", "next_key", "entered_at", "left_at"]
            ref_name = "IvrStep"

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, call_id: int):
        call = get_object_or_404(Call, pk=call_id)
        if not ivr_path_visible_to(request.user, call):
            raise Http404  # as for a call that does not exist: an agent learns nothing of others' calls
        return Response(self.OutputSerializer(ivr_path(call).select_related("flow"), many=True).data)
