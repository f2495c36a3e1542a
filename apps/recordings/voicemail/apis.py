"""REST API of voicemail: agents and supervisors list, play, handle and call back; admins edit boxes."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.agents.selectors import agent_phone_for
from apps.core.exceptions import ApplicationError
from apps.core.permissions import IsAdminRole, IsAgentOrSupervisor
from apps.core.roles import Role, user_can
from apps.recordings.models import Recording, Voicemail, VoicemailBox, VoicemailCallback
from apps.recordings.voicemail import services
from apps.recordings.voicemail.selectors import voicemail_boxes, voicemail_for, voicemail_list

# Where the phone a user wants rung first for call-backs is remembered.
SESSION_PHONE = "voicemail_callback_phone"


class BoxSerializer(serializers.ModelSerializer):
    ivr = serializers.CharField(source="ivr.name", default=None)
    queue = serializers.CharField(source="queue.name", default=None)
    new_count = serializers.IntegerField(read_only=True)
    total_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = VoicemailBox
        fields = ["id", "name", "ivr", "queue", "callback_number", "new_count", "total_count"]


class CallbackSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", default=None)
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = VoicemailCallback
        fields = ["id", "status", "status_label", "user", "user_phone", "created_at", "updated_at"]


class VoicemailSerializer(serializers.ModelSerializer):
    handled_by = serializers.CharField(source="handled_by.username", default=None)
    audio_url = serializers.SerializerMethodField()
    recording_status = serializers.CharField(source="recording.status")
    callbacks = CallbackSerializer(many=True)

    class Meta:
        model = Voicemail
        fields = ["id", "box", "call", "from_number", "caller_name", "to_number", "duration_seconds", "status",
                  "created_at", "handled_at", "handled_by", "audio_url", "recording_status", "callbacks"]

    def get_audio_url(self, voicemail) -> str | None:
        if voicemail.recording.status != Recording.Status.STORED:
            return None
        return reverse("recording-audio", args=[voicemail.recording_id])


class VoicemailBoxListApi(APIView):
    """The voicemail boxes you work, with new and total message counts. Supervisors see
    every box; agents their queues' boxes and the IVRs'."""

    permission_classes = [IsAgentOrSupervisor]

    @extend_schema(responses=BoxSerializer(many=True))
    def get(self, request):
        return Response(BoxSerializer(voicemail_boxes(request.user), many=True).data)


class VoicemailBoxUpdateApi(APIView):
    """Rename a box or set its callback number. Admins."""

    permission_classes = [IsAdminRole]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(required=False, max_length=100)
        callback_number = serializers.CharField(required=False, allow_blank=True, max_length=20)

        class Meta:
            ref_name = "VoicemailBoxUpdateInput"

    @extend_schema(request=InputSerializer, responses=BoxSerializer)
    def patch(self, request, box_id: int):
        box = get_object_or_404(VoicemailBox, pk=box_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.voicemail_box_update(box=box, **serializer.validated_data)
        return Response(BoxSerializer(voicemail_boxes().get(pk=box.pk)).data)


class VoicemailListApi(APIView):
    """The messages in one box, newest first. Agents and supervisors."""

    permission_classes = [IsAgentOrSupervisor]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Voicemail.Status.choices, required=False)

        class Meta:
            ref_name = "VoicemailFilter"

    @extend_schema(parameters=[FilterSerializer], responses=VoicemailSerializer(many=True))
    def get(self, request, box_id: int):
        box = get_object_or_404(voicemail_boxes(request.user), pk=box_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        messages = voicemail_list(box=box, status=filters.validated_data.get("status", ""))
        return Response(VoicemailSerializer(messages, many=True).data)


class VoicemailHandleApi(APIView):
    """Mark a message handled (or new again). Agents and supervisors."""

    permission_classes = [IsAgentOrSupervisor]

    class InputSerializer(serializers.Serializer):
        handled = serializers.BooleanField(default=True)

        class Meta:
            ref_name = "VoicemailHandleInput"

    @extend_schema(request=InputSerializer, responses=VoicemailSerializer)
    def post(self, request, voicemail_id: int):
        voicemail = _voicemail_or_404(request.user, voicemail_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        voicemail = services.voicemail_mark_handled(voicemail=voicemail, user=request.user, **serializer.validated_data)
        return Response(VoicemailSerializer(voicemail).data)


class VoicemailCallbackApi(APIView):
    """Call the caller back: the center rings your phone first, then the caller, and joins you.

    An agent's own phone (their endpoint) rings. Supervisors may give ``phone`` (E.164
    or SIP URI), remembered for their next call-backs in this session.
    """

    permission_classes = [IsAgentOrSupervisor]

    class InputSerializer(serializers.Serializer):
        phone = serializers.CharField(required=False, allow_blank=True, max_length=255)

        class Meta:
            ref_name = "VoicemailCallbackInput"

    @extend_schema(request=InputSerializer, responses={202: CallbackSerializer})
    def post(self, request, voicemail_id: int):
        voicemail = _voicemail_or_404(request.user, voicemail_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        phone = _phone_to_ring_first(request, serializer.validated_data.get("phone", ""))
        callback = services.voicemail_callback_start(voicemail=voicemail, user=request.user, phone=phone)
        request.session[SESSION_PHONE] = callback.user_phone
        return Response(CallbackSerializer(callback).data, status=status.HTTP_202_ACCEPTED)


def _voicemail_or_404(user, voicemail_id: int) -> Voicemail:
    voicemail = voicemail_for(user, voicemail_id)
    if voicemail is None:
        raise Http404
    return voicemail


def _phone_to_ring_first(request, given: str) -> str:
    """Supervisors may ring any phone of theirs; an agent rings their own endpoint.

    A call-back dials out on the company's line, so an agent naming any
    number would let anyone with a login place calls (premium numbers
    included) at the company's expense.
    """
    own = agent_phone_for(request.user)
    if user_can(request.user, Role.SUPERVISOR):
        return given or request.session.get(SESSION_PHONE, "") or own
    if given and given.strip() != own:
        raise ApplicationError("Agents call back from their own phone; an admin sets it on your agent profile.")
    return own
