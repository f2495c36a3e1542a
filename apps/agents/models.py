"""Agents: the people who take queued calls, their phones, skills and states.

An agent's status is a small state machine (``Agent.TRANSITIONS``) moved only
by :func:`apps.agents.services.agent_set_status`, which writes every change
to :class:`AgentStatusChange` with who made it and why.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

# Telnyx WebRTC clients registered with a telephony credential are reached at
# this SIP domain under the credential's ``sip_username`` (gencred...).
TELNYX_SIP_DOMAIN = "sip.telnyx.com"


class Skill(models.Model):
    name = models.CharField(max_length=50, unique=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Agent(models.Model):
    class Status(models.TextChoices):
        OFFLINE = "offline", "Offline"
        AVAILABLE = "available", "Available"
        RINGING = "ringing", "Ringing"
        ON_CALL = "on_call", "On a call"
        WRAP_UP = "wrap_up", "Wrap-up"
        AWAY = "away", "Away"

    class Endpoint(models.TextChoices):
        WEBRTC = "webrtc", "Browser softphone (Telnyx WebRTC credential)"
        SIP = "sip", "SIP URI (desk phone or softphone)"
        NUMBER = "number", "Phone number"

    # The only moves a status makes. Ringing and on-call are the dispatcher's
    # and the call's business; an agent moves between the others.
    TRANSITIONS = {
        Status.OFFLINE: {Status.AVAILABLE, Status.AWAY},
        Status.AVAILABLE: {Status.RINGING, Status.AWAY, Status.OFFLINE},
        Status.RINGING: {Status.ON_CALL, Status.AVAILABLE, Status.AWAY},
        Status.ON_CALL: {Status.WRAP_UP, Status.AWAY},  # away: answered, then dropped before meeting the caller
        Status.WRAP_UP: {Status.AVAILABLE, Status.AWAY, Status.OFFLINE},
        Status.AWAY: {Status.AVAILABLE, Status.OFFLINE},
    }
    # What an agent may pick for themselves, and from where.
    SELF_SERVICE = {Status.AVAILABLE, Status.AWAY, Status.OFFLINE}

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent")
    endpoint = models.CharField(max_length=8, choices=Endpoint.choices, default=Endpoint.WEBRTC)
    telephony_credential_id = models.CharField(
        max_length=64, blank=True, help_text="Telnyx telephony credential id; the browser softphone logs in with a "
                                             "short-lived token minted for it."
    )
    sip_username = models.CharField(
        max_length=64, blank=True, help_text="The credential's SIP username (gencred...): calls ring "
                                             f"sip:<username>@{TELNYX_SIP_DOMAIN}."
    )
    sip_uri = models.CharField(max_length=255, blank=True, help_text="sip:alice@example.com")
    phone_number = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +13125550190")
    skills = models.ManyToManyField(Skill, through="AgentSkill", related_name="agents", blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OFFLINE)
    status_reason = models.CharField(max_length=100, blank=True, help_text="Why away (a break, a missed call...).")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # Longest-idle routing: when the agent last became free to take a call.
    idle_since = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username"]
        indexes = [models.Index(fields=["idle_since"], condition=Q(status="available"), name="agent_available")]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def dial_target(self) -> str:
        """What the center dials to ring this agent ('' when the endpoint is incomplete)."""
        if self.endpoint == self.Endpoint.WEBRTC:
            return f"sip:{self.sip_username}@{TELNYX_SIP_DOMAIN}" if self.sip_username else ""
        if self.endpoint == self.Endpoint.SIP:
            return self.sip_uri
        return self.phone_number


class AgentSkill(models.Model):
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="agent_skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="agent_skills")
    level = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1), MaxValueValidator(10)],
                                             help_text="1 (basic) to 10 (expert).")

    class Meta:
        ordering = ["skill__name"]
        constraints = [models.UniqueConstraint(fields=["agent", "skill"], name="agent_skill_unique")]

    def __str__(self):
        return f"{self.skill} {self.level}"


class AgentStatusChange(models.Model):
    """Every status an agent passed through: old, new, reason, who, when."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="status_changes")
    old_status = models.CharField(max_length=10, choices=Agent.Status.choices)
    new_status = models.CharField(max_length=10, choices=Agent.Status.choices)
    reason = models.CharField(max_length=100, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", help_text="Empty: the system (routing, a call ending).")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["agent", "at"], name="agent_status_history")]

    def __str__(self):
        return f"{self.agent}: {self.old_status} -> {self.new_status}"
