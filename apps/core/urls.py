from django.contrib.auth import views as auth_views
from django.urls import path

from apps.agents.views import workspace_page
from apps.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("no-role/", views.no_role, name="no-role"),
    path("manage/", views.admin_home, name="admin-home"),
    path("supervisor/", views.supervisor_home, name="supervisor-home"),
    path("agent/", workspace_page, name="agent-home"),  # the agent workspace lives in apps.agents
]
