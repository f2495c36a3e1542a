"""REST API of queues, dispositions and an agent's calls.

Admins change queues and dispositions; supervisors read them and may move a
waiting caller up the line; an agent acts only on the calls offered to them.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.agents.apis import own_agent
from apps.agents.models import Agent, Skill
from apps.core.permissions import IsAdminRole, IsAgentOrSupervisor, IsAgentRole, IsSupervisorRole
from apps.queues import selectors
from apps.queues.messages import offer_summary
from apps.queues.models import Disposition, Offer, Queue, QueueEntry, Transfer
from apps.queues.services import config, controls, offers, transfers
from apps.queues.services.entries import queue_entry_set_priority


class QueueMemberSerializer(serializers.Serializer):
    agent = serializers.PrimaryKeyRelatedField(queryset=Agent.objects.all())
    priority = serializers.IntegerField(min_value=1, max_value=99, default=1)

    class Meta:
        ref_name = "QueueMemberInput"


class QueueSkillSerializer(serializers.Serializer):
    skill = serializers.PrimaryKeyRelatedField(queryset=Skill.objects.all())
    min_level = serializers.IntegerField(min_value=1, max_value=10, default=1)

    class Meta:
        ref_name = "QueueSkillInput"


class QueueOutputSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()
    skills = serializers.SerializerMethodField()
    stats = serializers.SerializerMethodField()

    class Meta:
        model = Queue
        fields = [
            "id", "name", "strategy", "ring_timeout_secs", "wrap_up_secs", "hold_audio_url", "hold_text",
            "announce_every_secs", "max_wait_secs", "overflow_action", "overflow_queue", "callback_number",
            "service_level_secs", "members", "skills", "stats",
        ]

    def get_members(self, queue) -> list[dict]:
        return [{"agent": m.agent_id, "name": m.agent.name, "priority": m.priority} for m in queue.memberships.all()]

    def get_skills(self, queue) -> list[dict]:
        return [{"skill": s.skill_id, "name": s.skill.name, "min_level": s.min_level}
                for s in queue.required_skills.all()]

    def get_stats(self, queue) -> dict:
        return selectors.queue_stats(queue)


class QueueInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    strategy = serializers.ChoiceField(choices=Queue.Strategy.choices, default=Queue.Strategy.LONGEST_IDLE)
    ring_timeout_secs = serializers.IntegerField(min_value=5, max_value=120, default=20)
    wrap_up_secs = serializers.IntegerField(min_value=0, max_value=3600, default=30)
    hold_audio_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    hold_text = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    announce_every_secs = serializers.IntegerField(min_value=0, max_value=3600, default=0)
    max_wait_secs = serializers.IntegerField(min_value=0, max_value=86400, default=0)
    overflow_action = serializers.ChoiceField(choices=Queue.Overflow.choices, default=Queue.Overflow.NONE)
    overflow_queue = serializers.PrimaryKeyRelatedField(queryset=Queue.objects.all(), required=False, allow_null=True)
    callback_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    service_level_secs = serializers.IntegerField(min_value=1, max_value=3600, default=20)
    members = QueueMemberSerializer(many=True, required=False)
    skills = QueueSkillSerializer(many=True, required=False)

    class Meta:
        ref_name = "QueueInput"


def _queues():
    return selectors.queue_list()


def _config(values: dict) -> dict:
    values = dict(values)
    if "members" in values:
        values["members"] = [(m["agent"], m["priority"]) for m in values["members"]]
    if "skills" in values:
        values["skills"] = [(s["skill"], s["min_level"]) for s in values["skills"]]
    return values


class QueueListApi(APIView):
    """Queues with their members, required skills and live figures. GET: supervisors; POST: admins."""

    def get_permissions(self):
        return [IsAdminRole()] if self.request.method == "POST" else [IsSupervisorRole()]

    @extend_schema(responses=QueueOutputSerializer(many=True))
    def get(self, request):
        return Response(QueueOutputSerializer(_queues(), many=True).data)

    @extend_schema(request=QueueInputSerializer, responses={201: QueueOutputSerializer})
    def post(self, request):
        data = QueueInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        queue = config.queue_create(**_config(data.validated_data))
        return Response(QueueOutputSerializer(_queues().get(pk=queue.pk)).data, status=status.HTTP_201_CREATED)


class QueueDetailApi(APIView):
    """One queue. GET: supervisors; PATCH (any settings, members, skills) and DELETE: admins."""

    def get_permissions(self):
        return [IsAdminRole()] if self.request.method in ("PATCH", "DELETE") else [IsSupervisorRole()]

    @extend_schema(responses=QueueOutputSerializer)
    def get(self, request, queue_id: int):
        return Response(QueueOutputSerializer(get_object_or_404(_queues(), pk=queue_id)).data)

    @extend_schema(request=QueueInputSerializer, responses=QueueOutputSerializer)
    def patch(self, request, queue_id: int):
        queue = get_object_or_404(Queue, pk=queue_id)
        data = QueueInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        config.queue_update(queue=queue, **_config(data.validated_data))
        return Response(QueueOutputSerializer(_queues().get(pk=queue.pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, queue_id: int):
        config.queue_delete(queue=get_object_or_404(Queue, pk=queue_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class QueueEntryOutputSerializer(serializers.ModelSerializer):
    caller = serializers.CharField(source="call.from_number")
    caller_name = serializers.CharField(source="call.caller_name")
    position = serializers.SerializerMethodField()

    class Meta:
        model = QueueEntry
        fields = ["id", "kind", "status", "priority", "place_at", "entered_at", "caller", "caller_name",
                  "callback_number", "callback_attempts", "not_before", "target_agent", "position"]

    def get_position(self, entry) -> int:
        return self.context["positions"][entry.pk]


class QueueEntryListApi(APIView):
    """The callers waiting in a queue (call-back requests included), in the order they will be served. Supervisors."""

    permission_classes = [IsSupervisorRole]

    @extend_schema(responses=QueueEntryOutputSerializer(many=True))
    def get(self, request, queue_id: int):
        line = list(selectors.queue_line(get_object_or_404(Queue, pk=queue_id)))
        positions = {entry.pk: index for index, entry in enumerate(line, start=1)}
        return Response(QueueEntryOutputSerializer(line, many=True, context={"positions": positions}).data)


class QueueEntryPriorityApi(APIView):
    """Move a waiting caller up (or down) the line: higher priority is served first. Supervisors."""

    permission_classes = [IsSupervisorRole]

    class InputSerializer(serializers.Serializer):
        priority = serializers.IntegerField(min_value=-100, max_value=100)

        class Meta:
            ref_name = "QueueEntryPriorityInput"

    @extend_schema(request=InputSerializer, responses=QueueEntryOutputSerializer)
    def post(self, request, entry_id: int):
        entry = get_object_or_404(QueueEntry, pk=entry_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = queue_entry_set_priority(entry=entry, user=request.user, **data.validated_data)
        line = list(selectors.queue_line(entry.queue))
        positions = {e.pk: index for index, e in enumerate(line, start=1)}
        positions.setdefault(entry.pk, 0)
        return Response(QueueEntryOutputSerializer(entry, context={"positions": positions}).data)


# --- Dispositions ------------------------------------------------------------------------
class DispositionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Disposition
        fields = ["id", "name", "active", "position"]


class DispositionListApi(APIView):
    """Dispositions an agent picks in wrap-up. GET: agents and supervisors; POST: admins."""

    def get_permissions(self):
        return [IsAdminRole()] if self.request.method == "POST" else [IsAgentOrSupervisor()]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=60)
        active = serializers.BooleanField(default=True)
        position = serializers.IntegerField(min_value=0, max_value=1000, default=0)

        class Meta:
            ref_name = "DispositionInput"

    @extend_schema(responses=DispositionOutputSerializer(many=True))
    def get(self, request):
        return Response(DispositionOutputSerializer(Disposition.objects.all(), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: DispositionOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        disposition = config.disposition_create(**data.validated_data)
        return Response(DispositionOutputSerializer(disposition).data, status=status.HTTP_201_CREATED)


class DispositionDetailApi(APIView):
    """Change or delete a disposition (admins). One already used is retired (inactive), not deleted."""

    permission_classes = [IsAdminRole]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=60, required=False)
        active = serializers.BooleanField(required=False)
        position = serializers.IntegerField(min_value=0, max_value=1000, required=False)

        class Meta:
            ref_name = "DispositionUpdate"

    @extend_schema(request=InputSerializer, responses=DispositionOutputSerializer)
    def patch(self, request, disposition_id: int):
        disposition = get_object_or_404(Disposition, pk=disposition_id)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        disposition = config.disposition_update(disposition=disposition, **data.validated_data)
        return Response(DispositionOutputSerializer(disposition).data)

    @extend_schema(responses={204: None})
    def delete(self, request, disposition_id: int):
        config.disposition_delete(disposition=get_object_or_404(Disposition, pk=disposition_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- The agent's calls -------------------------------------------------------------------
class OfferOutputSerializer(serializers.Serializer):
    """An offer as the workspace shows it (with the call card)."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Offer.Kind.choices)
    status = serializers.ChoiceField(choices=Offer.Status.choices)
    end_reason = serializers.CharField()
    queue = serializers.CharField()
    held = serializers.BooleanField()
    muted = serializers.BooleanField()
    conference = serializers.CharField()
    disposition = serializers.IntegerField(allow_null=True)
    notes = serializers.CharField()
    wrapped_at = serializers.DateTimeField(allow_null=True)
    awaits_wrap_up = serializers.BooleanField(help_text="Talked on, ended, and no disposition given yet.")
    transfer = serializers.DictField(allow_null=True)
    card = serializers.DictField(allow_null=True)
    version = serializers.IntegerField()


def _mine(request, offer_id: int) -> Offer:
    """An offer of the requesting agent (404 for anyone else's: an agent acts on their own calls only)."""
    return get_object_or_404(Offer.objects.select_related("entry__queue"), pk=offer_id,
                             agent=own_agent(request.user))


def _render(offer: Offer) -> Response:
    offer = Offer.objects.select_related("entry__queue", "entry__call").get(pk=offer.pk)
    return Response(offer_summary(offer))


class OfferDetailApi(APIView):
    """One of your calls, with its card (agents)."""

    permission_classes = [IsAgentRole]

    @extend_schema(responses=OfferOutputSerializer)
    def get(self, request, offer_id: int):
        return _render(_mine(request, offer_id))


def _act(request, offer_id: int, service, serializer_class=None) -> Response:
    """Parse the input, run one service on one of the requester's offers, render the offer."""
    offer = _mine(request, offer_id)
    values = {}
    if serializer_class is not None:
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
    service(offer=offer, user=request.user, **values)
    return _render(offer)


class _SwitchInput(serializers.Serializer):
    on = serializers.BooleanField(default=True)

    class Meta:
        ref_name = "OfferSwitchInput"


class OfferAcceptApi(APIView):
    """Answer a ringing call from the browser (sandbox mode; with Telnyx, answer on your phone or softphone)."""

    permission_classes = [IsAgentRole]

    @extend_schema(request=None, responses=OfferOutputSerializer)
    def post(self, request, offer_id: int):
        return _act(request, offer_id, offers.offer_accept)


class OfferDeclineApi(APIView):
    """Decline a ringing call: your phone stops and the caller goes to the next agent."""

    permission_classes = [IsAgentRole]

    @extend_schema(request=None, responses=OfferOutputSerializer)
    def post(self, request, offer_id: int):
        return _act(request, offer_id, offers.offer_decline)


class OfferHoldApi(APIView):
    """Put the caller on hold (``on: true``) or take them off hold."""

    permission_classes = [IsAgentRole]

    @extend_schema(request=_SwitchInput, responses=OfferOutputSerializer)
    def post(self, request, offer_id: int):
        return _act(request, offer_id, controls.offer_hold, _SwitchInput)


class OfferMuteApi(APIView):
    """Mute yourself (``on: true``) or unmute."""

    permission_classes = [IsAgentRole]

    @extend_schema(request=_SwitchInput, responses=OfferOutputSerializer)
    def post(self, request, offer_id: int):
        return _act(request, offer_id, controls.offer_mute, _SwitchInput)


class OfferDtmfApi(APIView):
    """Press keys (0-9, *, #, A-D) to the party you talk to: the caller, or whoever you consult (warm transfer)."""

    permission_classes = [IsAgentRole]

    class InputSerializer(serializers.Serializer):
        digits = serializers.CharField(max_length=32)

        class Meta:
            ref_name = "OfferDtmfInput"

    @extend_schema(request=InputSerializer, responses=OfferOutputSerializer)
    def post(self, request, offer_id: int):
        return _act(request, offer_id, controls.offer_send_dtmf, self.InputSerializer)


class OfferHangupApi(APIView):
    """Hang up: the caller is released and your wrap-up starts."""

    permission_classes = [IsAgentRole]

    @extend_schema(request=None, responses=OfferOutputSerializer)
    def post(self, request, offer_id: int):
        return _act(request, offer_id, controls.offer_hangup)


class OfferTransferApi(APIView):
    """Transfer the caller, blind or warm, to an agent, a queue (blind only) or a number."""

    permission_classes = [IsAgentRole]

    @extend_schema_serializer(component_name="OfferTransferInput")
    class InputSerializer(serializers.Serializer):
        mode = serializers.ChoiceField(choices=Transfer.Mode.choices)
        target = serializers.ChoiceField(choices=Transfer.Target.choices)
        agent = serializers.PrimaryKeyRelatedField(queryset=Agent.objects.select_related("user"), required=False,
                                                   allow_null=True)
        queue = serializers.PrimaryKeyRelatedField(queryset=Queue.objects.all(), required=False, allow_null=True)
        to = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=OfferOutputSerializer)
    def post(self, request, offer_id: int):
        return _act(request, offer_id, transfers.transfer_start, self.InputSerializer)


class OfferTransferCompleteApi(APIView):
    """Complete a warm transfer: the caller stays with the person you consulted and you leave."""

    permission_classes = [IsAgentRole]

    @extend_schema(request=None, responses=OfferOutputSerializer)
    def post(self, request, offer_id: int):
        return _act(request, offer_id, transfers.transfer_complete)


class OfferTransferCancelApi(APIView):
    """Cancel a transfer: the consulted party is hung up and you take the caller back."""

    permission_classes = [IsAgentRole]

    @extend_schema(request=None, responses=OfferOutputSerializer)
    def post(self, request, offer_id: int):
        return _act(request, offer_id, transfers.transfer_cancel)


class OfferWrapUpApi(APIView):
    """Record how an ended call went (disposition, notes); if you are in wrap-up you are available again."""

    permission_classes = [IsAgentRole]

    @extend_schema_serializer(component_name="OfferWrapUpInput")
    class InputSerializer(serializers.Serializer):
        disposition = serializers.PrimaryKeyRelatedField(queryset=Disposition.objects.all(), required=False,
                                                         allow_null=True, default=None)
        notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)

    @extend_schema(request=InputSerializer, responses=OfferOutputSerializer)
    def post(self, request, offer_id: int):
        return _act(request, offer_id, offers.offer_wrap_up, self.InputSerializer)
