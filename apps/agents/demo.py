"""Demo agents: "agent" takes calls in the browser workspace; Bob and Carol are simulated desk phones.

In sandbox mode the workspace agent's softphone is a sandbox leg answered
from the page (Accept); Bob's and Carol's SIP phones are answered by the
sandbox itself after a few rings, so calls flow IVR -> queue -> agent even
when nobody is logged in.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.agents.models import TELNYX_SIP_DOMAIN, Agent, AgentSkill, Skill
from apps.agents.services import agent_set_status
from apps.core.demo import demo_password
from apps.core.roles import Role

SKILLS = [("English", "Speaks English"), ("Spanish", "Speaks Spanish"), ("Billing", "Knows invoices and payments"),
          ("Technical", "Troubleshoots the product")]
WORKSPACE_CREDENTIAL = "sandbox-credential-agent"
WORKSPACE_SIP_USERNAME = "gencredagentdemo"
# (username, first, last, SIP URI, skills)
DESK_AGENTS = [
    ("bob", "Bob", "Desk", "sip:bob@sandbox.telnyx.com", {"English": 8, "Billing": 7}),
    ("carol", "Carol", "Desk", "sip:carol@sandbox.telnyx.com", {"English": 6, "Spanish": 9, "Technical": 8}),
]


def seed() -> list[str]:
    skills = {name: Skill.objects.get_or_create(name=name, defaults={"description": text})[0] for name, text in SKILLS}
    User = get_user_model()
    lines = []
    workspace_user = User.objects.filter(username="agent").first()
    if workspace_user is not None:
        agent, _ = Agent.objects.get_or_create(user=workspace_user, defaults={
            "endpoint": Agent.Endpoint.WEBRTC, "telephony_credential_id": WORKSPACE_CREDENTIAL,
            "sip_username": WORKSPACE_SIP_USERNAME,
        })
        for name, level in {"English": 7, "Billing": 5, "Technical": 6}.items():
            AgentSkill.objects.get_or_create(agent=agent, skill=skills[name], defaults={"level": level})
        lines.append(f"agent       agent (browser workspace, {agent.dial_target})")
    for username, first, last, uri, levels in DESK_AGENTS:
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": first, "last_name": last})
        if created:
            user.set_password(demo_password())
            user.save()
        user.groups.add(Group.objects.get(name=Role.AGENT))
        agent, created = Agent.objects.get_or_create(user=user, defaults={"endpoint": Agent.Endpoint.SIP, "sip_uri": uri})
        for name, level in levels.items():
            AgentSkill.objects.get_or_create(agent=agent, skill=skills[name], defaults={"level": level})
        if agent.status == Agent.Status.OFFLINE:
            agent_set_status(agent=agent, status=Agent.Status.AVAILABLE, reason="")
        lines.append(f"agent       {username} / {demo_password()} (simulated desk phone {uri})")
    return lines


def sandbox_destinations() -> dict:
    """How the sandbox answers the demo agents' phones."""
    return {
        # The workspace agent answers from the browser (Accept); unanswered, it rings out.
        f"sip:{WORKSPACE_SIP_USERNAME}@{TELNYX_SIP_DOMAIN}": {"answer": "manual"},
        # Desk phones pick up after a few rings and hang up after a conversation.
        **{uri: {"answer": "auto", "ring_ms": 4000, "hangup_after_ms": 40000} for _, _, _, uri, _ in DESK_AGENTS},
    }
