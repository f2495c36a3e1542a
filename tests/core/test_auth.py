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


def test_an_admin_adds_a_login_and_gives_it_a_role_in_django_admin(client, admin_user):
    from django.contrib.auth.models import Group, User

    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    response = client.post("/admin/auth/user/add/", {
        "username": "newagent", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42",
        "usable_password": "true",
    })
    assert response.status_code == 302, response.content[:2000]
    new = User.objects.get(username="newagent")
    form = client.get(f"/admin/auth/user/{new.pk}/change/").content.decode()
    assert 'name="groups"' in form
    assert 'name="is_superuser"' not in form and 'name="user_permissions"' not in form

    agent_group = Group.objects.get(name="agent")
    client.post(f"/admin/auth/user/{new.pk}/change/", {
        "username": "newagent", "is_active": "on", "groups": [agent_group.pk],
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "is_superuser": "on",  # not theirs to give: ignored
    })
    new.refresh_from_db()
    assert list(new.groups.values_list("name", flat=True)) == ["agent"]
    assert not new.is_superuser


def test_an_admin_cannot_open_a_superuser_in_django_admin(client, admin_user):
    from django.contrib.auth.models import User

    root = User.objects.create_superuser("root", password="x")
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    assert client.get(f"/admin/auth/user/{root.pk}/change/").status_code in (302, 404)
    assert client.get(f"/admin/auth/user/{root.pk}/password/").status_code == 404


def test_the_demo_logins_are_not_seeded_into_a_production_database(settings):
    from django.contrib.auth.models import User
    from django.core.management import CommandError, call_command

    settings.EMBEDDED, settings.DEBUG = False, False
    with pytest.raises(CommandError, match="well-known password"):
        call_command("seed_demo")
    assert not User.objects.filter(username="admin").exists()
