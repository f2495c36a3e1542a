"""Logging in, and each role landing in its place and nowhere else."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_login_page_is_served(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_wrong_password_is_refused_with_a_message(client, agent_user):
    response = client.post("/login/", {"username": agent_user.username, "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


@pytest.mark.parametrize(
    "user_fixture, place",
    [("admin_user", "admin-home"), ("supervisor_user", "supervisor-home"), ("agent_user", "agent-home"),
     ("outsider", "no-role")],
)
def test_home_sends_each_role_to_its_place(client, request, user_fixture, place):
    user = request.getfixturevalue(user_fixture)
    response = client.post("/login/", {"username": user.username, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse(place)


@pytest.mark.parametrize(
    "user_fixture, allowed",
    [
        ("admin_user", {"admin-home", "supervisor-home"}),
        ("supervisor_user", {"supervisor-home"}),
        ("agent_user", {"agent-home"}),
        ("outsider", set()),
    ],
)
def test_role_pages_refuse_other_roles(client, request, user_fixture, allowed):
    client.force_login(request.getfixturevalue(user_fixture))
    for place in ("admin-home", "supervisor-home", "agent-home"):
        expected = 200 if place in allowed else 403
        assert client.get(reverse(place)).status_code == expected, place


def test_logout_ends_the_session(client, agent_user):
    client.force_login(agent_user)
    client.post("/logout/")
    assert client.get(reverse("agent-home")).status_code == 302


def test_the_calls_api_is_for_supervisors_and_admins(client, agent_user, supervisor_user):
    assert client.get("/api/calls/").status_code == 403
    client.force_login(agent_user)
    assert client.get("/api/calls/").status_code == 403
    client.force_login(supervisor_user)
    assert client.get("/api/calls/").status_code == 200


def test_admins_reach_django_admin_and_agents_do_not(client, admin_user, agent_user):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    assert client.get("/admin/calls/call/").status_code == 200
    client.force_login(agent_user)
    assert client.get("/admin/calls/call/").status_code == 302


def test_the_openapi_schema_is_served_to_logged_in_users(client, supervisor_user):
    assert client.get("/api/schema/").status_code == 403
    client.force_login(supervisor_user)
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/calls/" in response.content
