"""Agents and skills: REST API under /api/agents/ and /api/skills/, pages under /agents/ (and /agent/)."""

from django.urls import path

from apps.agents import apis, views

urlpatterns = [
    path("agents/", views.agents_page, name="agents-page"),
    path("agents/<int:agent_id>/", views.agent_page, name="agent-page"),
    path("agents/<int:agent_id>/delete/", views.agent_delete_page, name="agent-delete-page"),
    path("agents/skills/", views.skill_create_page, name="skill-create-page"),
    path("agents/skills/<int:skill_id>/delete/", views.skill_delete_page, name="skill-delete-page"),
    path("api/agents/", apis.AgentListApi.as_view(), name="agent-list"),
    path("api/agents/me/", apis.AgentMeApi.as_view(), name="agent-me"),
    path("api/agents/me/status/", apis.AgentMeStatusApi.as_view(), name="agent-me-status"),
    path("api/agents/me/softphone-token/", apis.AgentMeTokenApi.as_view(), name="agent-me-token"),
    path("api/agents/<int:agent_id>/", apis.AgentDetailApi.as_view(), name="agent-detail"),
    path("api/agents/<int:agent_id>/history/", apis.AgentHistoryApi.as_view(), name="agent-history"),
    path("api/skills/", apis.SkillListApi.as_view(), name="skill-list"),
    path("api/skills/<int:skill_id>/", apis.SkillDetailApi.as_view(), name="skill-detail"),
]
