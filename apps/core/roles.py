"""The three roles of the contact center and what each may do.

Roles are Django groups, so admins manage membership in Django admin. A role
check asks "may this user do X", never "is this user in group Y", so an admin
can supervise and a superuser can do everything.

- admin: configures the center (numbers, IVRs, queues, agents) and may supervise.
- supervisor: watches queues and calls, listens in, whispers, barges.
- agent: takes calls in the agent workspace.
"""

from django.contrib.auth.models import Group, Permission
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    SUPERVISOR = "supervisor", "Supervisor"
    AGENT = "agent", "Agent"


# Roles whose holders may act as the key role.
_GRANTS = {
    Role.ADMIN: {Role.ADMIN},
    Role.SUPERVISOR: {Role.ADMIN, Role.SUPERVISOR},
    Role.AGENT: {Role.AGENT},
}

# Apps whose model permissions the admin group holds (Django admin access).
PROJECT_APP_LABELS = ("core", "telnyx", "calls", "numbers", "ivr", "agents", "queues", "recordings")
# Admins also add logins and put them in roles (apps/core/admin.py keeps the
# superuser flag and single permissions out of their reach).
PEOPLE_PERMISSIONS = ("add_user", "change_user", "view_user", "view_group")


def user_roles(user) -> frozenset[str]:
    """The roles a user holds, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_cc_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(Role.values)
        else:
            cached = frozenset(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._cc_roles = cached
    return cached


def user_can(user, role: str) -> bool:
    """May ``user`` act with the powers of ``role``? (admins may supervise)."""
    return bool(user_roles(user) & _GRANTS[Role(role)])


def role_home(user) -> str:
    """URL name of the place each role starts from."""
    if user_can(user, Role.ADMIN):
        return "admin-home"
    if user_can(user, Role.SUPERVISOR):
        return "supervisor-home"
    if user_can(user, Role.AGENT):
        return "agent-home"
    return "no-role"


def roles_sync() -> None:
    """Create the role groups and give them their model permissions (idempotent)."""
    project_perms = Permission.objects.filter(content_type__app_label__in=PROJECT_APP_LABELS)
    admin, _ = Group.objects.get_or_create(name=Role.ADMIN)
    admin.permissions.add(*project_perms)
    admin.permissions.add(*Permission.objects.filter(content_type__app_label="auth", codename__in=PEOPLE_PERMISSIONS))
    supervisor, _ = Group.objects.get_or_create(name=Role.SUPERVISOR)
    supervisor.permissions.add(*project_perms.filter(codename__startswith="view_"))
    Group.objects.get_or_create(name=Role.AGENT)
