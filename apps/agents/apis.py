"""REST API of agents and skills: admins change them, supervisors read them, an agent acts on themselves."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.agents import services
from apps.agents.models import Agent, AgentStatusChange, Skill
from apps.core.permissions import IsAdminRole, IsAgentRole, IsSupervisorRole
from apps.core.roles import Role, user_can


class SkillOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Skill
        fields = ["id", "name", "description"]


class AgentSkillSerializer(serializers.Serializer):
    skill = serializers.PrimaryKeyRelatedField(queryset=Skill.objects.all())
    level = serializers.IntegerField(min_value=1, max_value=10, default=3)

    class Meta:
        ref_name = "AgentSkillLevel"


class AgentOutputSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    name = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    dial_target = serializers.CharField()
    skills = serializers.SerializerMethodField()
    queues = serializers.SerializerMethodField()

    class Meta:
        model = Agent
        fields = [
            "id", "username", "name", "endpoint", "telephony_credential_id", "sip_username", "sip_uri",
            "phone_number", "dial_target", "status", "status_label", "status_reason", "status_changed_at",
            "idle_since", "skills", "queues", "version",
        ]

    def get_skills(self, agent) -> list[dict]:
        return [{"skill": s.skill_id, "name": s.skill.name, "level": s.level}
                for s in agent.agent_skills.select_related("skill")]

    def get_queues(self, agent) -> list[dict]:
        return [{"queue": m.queue_id, "name": m.queue.name, "priority": m.priority}
                for m in agent.memberships.select_related("queue")]


class StatusChangeOutputSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)

    class Meta:
        model = AgentStatusChange
        fields = ["old_status", "new_status", "reason", "actor", "at"]


def _skills(items) -> list[tuple[Skill, int]]:
    return [(item["skill"], item["level"]) for item in items]


def _agents():
    return Agent.objects.select_related("user").prefetch_related("agent_skills__skill", "memberships__queue")


class AgentListApi(APIView):
    """Agents with their status, endpoint, skills and queues. GET: supervisors; POST (make a user an agent): admins."""

    def get_permissions(self):
        return [IsAdminRole()] if self.request.method == "POST" else [IsSupervisorRole()]

    @extend_schema_serializer(component_name="AgentCreate")
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        endpoint = serializers.ChoiceField(choices=Agent.Endpoint.choices, default=Agent.Endpoint.WEBRTC)
        telephony_credential_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
        sip_username = serializers.CharField(required=False, allow_blank=True, max_length=64)
        sip_uri = serializers.CharField(required=False, allow_blank=True, max_length=255)
        phone_number = serializers.CharField(required=False, allow_blank=True, max_length=20)
        skills = AgentSkillSerializer(many=True, required=False)

        def validate_username(self, value):
            user = get_user_model().objects.filter(username=value).first()
            if user is None:
                raise serializers.ValidationError(f"There is no user {value!r}.")
            return user

    @extend_schema(responses=AgentOutputSerializer(many=True))
    def get(self, request):
        return Response(AgentOutputSerializer(_agents(), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: AgentOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        user = values.pop("username")
        agent = services.agent_create(user=user, skills=_skills(values.pop("skills", [])), **values)
        return Response(AgentOutputSerializer(_agents().get(pk=agent.pk)).data, status=status.HTTP_201_CREATED)


class AgentDetailApi(APIView):
    """One agent. GET: supervisors, or the agent themselves; PATCH (endpoint, skills) and DELETE: admins."""

    def get_permissions(self):
        return [IsAdminRole()] if self.request.method in ("PATCH", "DELETE") else [IsAuthenticated()]

    @extend_schema_serializer(component_name="AgentUpdate")
    class InputSerializer(serializers.Serializer):
        endpoint = serializers.ChoiceField(choices=Agent.Endpoint.choices, required=False)
        telephony_credential_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
        sip_username = serializers.CharField(required=False, allow_blank=True, max_length=64)
        sip_uri = serializers.CharField(required=False, allow_blank=True, max_length=255)
        phone_number = serializers.CharField(required=False, allow_blank=True, max_length=20)
        skills = AgentSkillSerializer(many=True, required=False)

    @extend_schema(responses=AgentOutputSerializer)
    def get(self, request, agent_id: int):
        agent = get_object_or_404(_agents(), pk=agent_id)
        _may_read(request.user, agent)
        return Response(AgentOutputSerializer(agent).data)

    @extend_schema(request=InputSerializer, responses=AgentOutputSerializer)
    def patch(self, request, agent_id: int):
        agent = get_object_or_404(Agent, pk=agent_id)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        skills = _skills(values.pop("skills")) if "skills" in values else None
        services.agent_update(agent=agent, skills=skills, **values)
        return Response(AgentOutputSerializer(_agents().get(pk=agent.pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, agent_id: int):
        services.agent_delete(agent=get_object_or_404(Agent, pk=agent_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _may_read(user, agent: Agent) -> None:
    if not (user_can(user, Role.SUPERVISOR) or (user_can(user, Role.AGENT) and agent.user_id == user.pk)):
        raise PermissionDenied


class AgentHistoryApi(APIView):
    """An agent's status history, newest first: supervisors, or the agent themselves."""

    @extend_schema(responses=StatusChangeOutputSerializer(many=True))
    def get(self, request, agent_id: int):
        agent = get_object_or_404(Agent, pk=agent_id)
        _may_read(request.user, agent)
        changes = agent.status_changes.select_related("actor")[:200]
        return Response(StatusChangeOutputSerializer(changes, many=True).data)


def own_agent(user) -> Agent:
    agent = Agent.objects.filter(user=user).select_related("user").first()
    if agent is None:
        raise PermissionDenied("You have no agent profile: ask an admin to make you an agent.")
    return agent


class AgentMeApi(APIView):
    """Your own agent profile and status (agents)."""

    permission_classes = [IsAgentRole]

    @extend_schema(responses=AgentOutputSerializer)
    def get(self, request):
        return Response(AgentOutputSerializer(_agents().get(pk=own_agent(request.user).pk)).data)


class AgentMeStatusApi(APIView):
    """Set yourself available, away (with a reason) or offline (agents; never another agent)."""

    permission_classes = [IsAgentRole]

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=[(s, Agent.Status(s).label) for s in Agent.SELF_SERVICE])
        reason = serializers.CharField(required=False, allow_blank=True, max_length=100)

        class Meta:
            ref_name = "AgentStatusInput"

    @extend_schema(request=InputSerializer, responses=AgentOutputSerializer)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agent = services.agent_change_own_status(agent=own_agent(request.user), user=request.user,
                                                 **data.validated_data)
        return Response(AgentOutputSerializer(_agents().get(pk=agent.pk)).data)


class AgentMeTokenApi(APIView):
    """A short-lived login token for your browser softphone (Telnyx WebRTC). Never the SIP password."""

    permission_classes = [IsAgentRole]

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        sip_username = serializers.CharField()

        class Meta:
            ref_name = "SoftphoneToken"

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request):
        agent = own_agent(request.user)
        token = services.agent_softphone_token(agent=agent)
        return Response({"token": token, "sip_username": agent.sip_username})


class SkillListApi(APIView):
    """Skills. GET: supervisors; POST: admins."""

    def get_permissions(self):
        return [IsAdminRole()] if self.request.method == "POST" else [IsSupervisorRole()]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=50)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

        class Meta:
            ref_name = "SkillInput"

    @extend_schema(responses=SkillOutputSerializer(many=True))
    def get(self, request):
        return Response(SkillOutputSerializer(Skill.objects.all(), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: SkillOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        skill = services.skill_create(**data.validated_data)
        return Response(SkillOutputSerializer(skill).data, status=status.HTTP_201_CREATED)


class SkillDetailApi(APIView):
    """Rename or delete a skill (admins)."""

    permission_classes = [IsAdminRole]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=50, required=False)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)

        class Meta:
            ref_name = "SkillUpdate"

    @extend_schema(request=InputSerializer, responses=SkillOutputSerializer)
    def patch(self, request, skill_id: int):
        skill = get_object_or_404(Skill, pk=skill_id)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(SkillOutputSerializer(services.skill_update(skill=skill, **data.validated_data)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, skill_id: int):
        get_object_or_404(Skill, pk=skill_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
