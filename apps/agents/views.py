"""Pages: the agent workspace (/agent/), and the agents list and editor (admins change, supervisors read)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.agents import services
from apps.agents.forms import AgentForm, SkillForm
from apps.agents.models import Agent, Skill
from apps.core.decorators import role_required
from apps.core.exceptions import ApplicationError
from apps.core.roles import Role, user_can


@role_required(Role.AGENT)
def workspace_page(request):
    """The agent's workspace: a Preact page fed by the live websocket (its snapshot and deltas)."""
    from apps.queues.models import Disposition
    from apps.queues.selectors import agent_workspace

    agent = Agent.objects.filter(user=request.user).select_related("user").first()
    initial = None
    if agent is not None:
        initial = {
            **agent_workspace(agent),
            "dispositions": [{"id": d.pk, "name": d.name} for d in Disposition.objects.filter(active=True)],
            "sandbox": settings.TELNYX_SANDBOX,
        }
    return render(request, "agents/workspace.html", {"agent": agent, "initial": initial})


@role_required(Role.SUPERVISOR)
def agents_page(request):
    """Agents with their status and phone; admins add agents and skills here."""
    can_edit = user_can(request.user, Role.ADMIN)
    form = AgentForm(request.POST or None) if can_edit else None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                agent = services.agent_create(user=form.cleaned_data["user"], skills=form.skill_levels(),
                                              **form.endpoint_values())
            except ApplicationError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"{agent.name} is an agent now.")
                return redirect("agents-page")
    agents = Agent.objects.select_related("user").prefetch_related("agent_skills__skill", "memberships__queue")
    return render(request, "agents/agents.html", {
        "agents": agents, "form": form, "can_edit": can_edit, "skills": Skill.objects.all(),
        "skill_form": SkillForm() if can_edit else None,
    })


@role_required(Role.SUPERVISOR)
def agent_page(request, agent_id: int):
    agent = get_object_or_404(Agent.objects.select_related("user"), pk=agent_id)
    can_edit = user_can(request.user, Role.ADMIN)
    form = AgentForm(request.POST or None, agent=agent, initial={
        f: getattr(agent, f) for f in ("endpoint", "telephony_credential_id", "sip_username", "sip_uri", "phone_number")
    })
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.agent_update(agent=agent, skills=form.skill_levels(), **form.endpoint_values())
            except ApplicationError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"{agent.name} saved.")
                return redirect("agents-page")
    history = agent.status_changes.select_related("actor")[:50]
    return render(request, "agents/agent.html", {"agent": agent, "form": form, "can_edit": can_edit,
                                                 "history": history})


@require_POST
@role_required(Role.ADMIN)
def agent_delete_page(request, agent_id: int):
    agent = get_object_or_404(Agent, pk=agent_id)
    try:
        services.agent_delete(agent=agent)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("agent-page", agent_id=agent.pk)
    messages.info(request, f"{agent.name} is no longer an agent.")
    return redirect("agents-page")


@require_POST
@role_required(Role.ADMIN)
def skill_create_page(request):
    form = SkillForm(request.POST)
    if form.is_valid():
        try:
            skill = services.skill_create(**form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Skill {skill.name} added.")
    else:
        messages.error(request, "A skill needs a name.")
    return redirect(reverse("agents-page") + "#skills")


@require_POST
@role_required(Role.ADMIN)
def skill_delete_page(request, skill_id: int):
    skill = get_object_or_404(Skill, pk=skill_id)
    skill.delete()
    messages.info(request, f"Skill {skill.name} deleted.")
    return redirect(reverse("agents-page") + "#skills")


def _form_error(form, exc: ApplicationError) -> None:
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, exc.message)
