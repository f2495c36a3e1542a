"""Agents: their status (one service moves it), their profile and skills, and the softphone token."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.agents.messages import AgentMessages
from apps.agents.models import Agent, AgentSkill, AgentStatusChange, Skill
from apps.core.db import rows_replace
from apps.core.exceptions import ApplicationError
from apps.core.realtime import AGENTS, SUPERVISORS, agent_group, publish_on_commit, queue_group
from apps.core.roles import Role
from apps.numbers.validation import destination_normalize, e164_normalize
from apps.telnyx.client import TelnyxError, get_client

logger = logging.getLogger(__name__)

Status = Agent.Status
StatusListener = Callable[[Agent, str, str], None]
_status_listeners: list[StatusListener] = []


def on_agent_status(fn: StatusListener) -> StatusListener:
    """Register ``fn(agent, old, new)``, run in the transaction of every status change
    (routing wakes the dispatcher when an agent becomes available)."""
    _status_listeners.append(fn)
    return fn


# --- Status -------------------------------------------------------------------
@transaction.atomic(savepoint=False)
def agent_set_status(
    *, agent: Agent, status: str, reason: str = "", actor=None, expected: str | None = None
) -> bool:
    """Move ``agent`` to ``status`` if it is still in ``expected`` (default: the status read).

    The move is one conditional UPDATE, so two writers racing on the same
    agent (a call ending, the agent clicking "away") can never both apply:
    the loser gets ``False`` and changes nothing. A move the state machine
    does not allow raises :class:`ApplicationError`. Every move writes a
    history row and tells the agent, the queues they serve and supervisors.
    """
    old = expected or agent.status
    new = Status(status)
    if new not in Agent.TRANSITIONS[Status(old)]:
        raise ApplicationError(
            f"An agent who is {Status(old).label.lower()} cannot become {new.label.lower()}.",
            {"from": old, "to": new},
        )
    if new == Status.AWAY and not reason:
        reason = "Away"
    reason = reason[:100] if new == Status.AWAY else ""
    now = timezone.now()
    changes = {"status": new, "status_reason": reason, "status_changed_at": now, "version": F("version") + 1}
    if new == Status.AVAILABLE:
        changes["idle_since"] = now
    if not Agent.objects.filter(pk=agent.pk, status=old).update(**changes):
        return False
    agent.refresh_from_db(fields=["status", "status_reason", "status_changed_at", "idle_since", "version"])
    AgentStatusChange.objects.create(agent=agent, old_status=old, new_status=new, reason=reason, actor=actor, at=now)
    agent_publish(agent)
    for listener in _status_listeners:
        listener(agent, old, new)
    return True


def agent_publish(agent: Agent) -> None:
    """Tell the agent's workspace, the boards of the queues they serve, supervisors and,
    for the transfer list, every agent's workspace (status only) (after commit)."""
    message = AgentMessages.agent_updated(agent)
    publish_on_commit(agent_group(agent.pk), message)
    publish_on_commit(SUPERVISORS, message)
    for queue_id in agent.memberships.values_list("queue_id", flat=True):
        publish_on_commit(queue_group(queue_id), message)
    publish_on_commit(AGENTS, AgentMessages.agent_presence(agent))


@transaction.atomic
def agent_change_own_status(*, agent: Agent, status: str, reason: str = "", user) -> Agent:
    """An agent picks available, away (with a reason) or offline for themselves.

    Ringing and on-call belong to the call: an agent declines a ringing call
    or hangs up rather than walking away from it.
    """
    if status == Status.AVAILABLE:
        from apps.queues.services.offers import offer_wrap_up_skip

        # Before the agent's lock: calls lock their offer first, then the agent.
        offer_wrap_up_skip(agent=agent)
    agent = Agent.objects.select_for_update(no_key=True).get(pk=agent.pk)
    if status not in Agent.SELF_SERVICE:
        raise ApplicationError("Agents set themselves available, away or offline.", {"status": status})
    if agent.status == Status.RINGING:
        raise ApplicationError("A call is ringing for you: answer or decline it first.")
    if agent.status == Status.ON_CALL:
        raise ApplicationError("You are on a call: hang up first.")
    if agent.status == status and status != Status.AWAY:
        return agent
    if status == Status.AVAILABLE and not agent.dial_target:
        raise ApplicationError("Your phone is not set up yet: ask an admin to set your endpoint.")
    if agent.status == status:  # away with a new reason: a fresh history row, no state move
        _away_again(agent=agent, reason=reason, user=user)
        return agent
    agent_set_status(agent=agent, status=status, reason=reason, actor=user)
    return agent


def _away_again(*, agent: Agent, reason: str, user) -> None:
    reason = (reason or "Away")[:100]
    now = timezone.now()
    Agent.objects.filter(pk=agent.pk).update(status_reason=reason, status_changed_at=now, version=F("version") + 1)
    agent.refresh_from_db(fields=["status_reason", "status_changed_at", "version"])
    AgentStatusChange.objects.create(agent=agent, old_status=agent.status, new_status=agent.status, reason=reason,
                                     actor=user, at=now)
    agent_publish(agent)


# --- Profile --------------------------------------------------------------------
ENDPOINT_FIELDS = ("endpoint", "telephony_credential_id", "sip_username", "sip_uri", "phone_number")


def agent_endpoint_clean(data: dict) -> dict:
    """Check and normalise an endpoint: the field its kind needs must be there and well formed."""
    kind = data.get("endpoint") or Agent.Endpoint.WEBRTC
    cleaned = {field: (data.get(field) or "").strip() for field in ENDPOINT_FIELDS[1:]}
    cleaned["endpoint"] = kind
    try:
        if kind == Agent.Endpoint.WEBRTC:
            for field in ("telephony_credential_id", "sip_username"):
                if not cleaned[field]:
                    raise ApplicationError("A browser softphone needs the Telnyx credential id and its SIP username.",
                                           {"field": field})
        elif kind == Agent.Endpoint.SIP:
            if not cleaned["sip_uri"].lower().startswith(("sip:", "sips:")):
                raise ApplicationError("Enter a SIP URI like sip:alice@example.com.", {"field": "sip_uri"})
            cleaned["sip_uri"] = destination_normalize(cleaned["sip_uri"])
        elif kind == Agent.Endpoint.NUMBER:
            cleaned["phone_number"] = e164_normalize(cleaned["phone_number"])
        else:
            raise ApplicationError(f"Unknown endpoint kind {kind!r}.", {"field": "endpoint"})
    except ValidationError as exc:
        field = "sip_uri" if kind == Agent.Endpoint.SIP else "phone_number"
        raise ApplicationError(exc.messages[0], {"field": field}) from None
    return cleaned


@transaction.atomic
def agent_create(*, user, skills: list[tuple[Skill, int]] | None = None, **endpoint) -> Agent:
    """Make ``user`` an agent (they get the agent role) with a phone endpoint and skills."""
    from django.contrib.auth.models import Group

    if Agent.objects.filter(user=user).exists():
        raise ApplicationError(f"{user.get_username()} is already an agent.", {"field": "user"})
    agent = Agent.objects.create(user=user, **agent_endpoint_clean(endpoint))
    user.groups.add(Group.objects.get_or_create(name=Role.AGENT)[0])
    if skills:
        agent_skills_set(agent=agent, skills=skills)
    return agent


@transaction.atomic
def agent_update(*, agent: Agent, skills: list[tuple[Skill, int]] | None = None, **endpoint) -> Agent:
    """Change an agent's endpoint (only the fields given) and, if given, their skills."""
    if endpoint:
        current = {field: getattr(agent, field) for field in ENDPOINT_FIELDS}
        for field, value in agent_endpoint_clean({**current, **endpoint}).items():
            setattr(agent, field, value)
        agent.save(update_fields=list(ENDPOINT_FIELDS))
    if skills is not None:
        agent_skills_set(agent=agent, skills=skills)
    return agent


@transaction.atomic(savepoint=False)
def agent_skills_set(*, agent: Agent, skills: list[tuple[Skill, int]]) -> None:
    """Replace the agent's skills with ``[(skill, level), ...]``."""
    levels = {skill.pk: level for skill, level in skills}
    for level in levels.values():
        if not 1 <= int(level) <= 10:
            raise ApplicationError("Skill levels go from 1 to 10.", {"field": "skills"})
    rows_replace(AgentSkill, {"agent": agent}, "skill_id", levels, "level")


@transaction.atomic
def agent_delete(*, agent: Agent) -> None:
    """Remove an agent profile (the user stays). Refused while a call rings or is up."""
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    if agent.status in (Status.RINGING, Status.ON_CALL):
        raise ApplicationError("This agent is on a call: try again when it has ended.")
    agent.delete()


# --- Skills ----------------------------------------------------------------------
@transaction.atomic
def skill_create(*, name: str, description: str = "") -> Skill:
    name = (name or "").strip()
    if not name:
        raise ApplicationError("A skill needs a name.", {"field": "name"})
    try:
        with transaction.atomic():
            return Skill.objects.create(name=name, description=description.strip())
    except IntegrityError:
        raise ApplicationError(f"There is already a skill called {name!r}.", {"field": "name"}) from None


@transaction.atomic
def skill_update(*, skill: Skill, name: str | None = None, description: str | None = None) -> Skill:
    if name is not None:
        name = name.strip()
        if not name:
            raise ApplicationError("A skill needs a name.", {"field": "name"})
        if Skill.objects.filter(name=name).exclude(pk=skill.pk).exists():
            raise ApplicationError(f"There is already a skill called {name!r}.", {"field": "name"})
        skill.name = name
    if description is not None:
        skill.description = description.strip()
    skill.save(update_fields=["name", "description"])
    return skill


# --- The browser softphone ---------------------------------------------------------
def agent_softphone_token(*, agent: Agent) -> str:
    """A short-lived login token (JWT) for the agent's Telnyx telephony credential.

    Telnyx mints it (``POST /telephony_credentials/{id}/token``); the SIP
    password never reaches the browser.
    """
    if agent.endpoint != Agent.Endpoint.WEBRTC or not agent.telephony_credential_id:
        raise ApplicationError("Your endpoint is not a browser softphone.")
    try:
        return get_client().access_token(agent.telephony_credential_id)
    except TelnyxError as exc:
        logger.warning("could not mint a softphone token for agent %s: %s", agent.pk, exc)
        raise ApplicationError("Telnyx did not give a softphone token; try again in a moment.") from exc
