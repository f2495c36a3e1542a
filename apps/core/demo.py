"""Demo data: the three roles' logins. Other apps add theirs in their own ``demo.py``."""

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.core.roles import Role

# Local demo only: the password can be changed with DEMO_PASSWORD.
DEMO_USERS = [
    ("admin", Role.ADMIN, "Ada", "Admin"),
    ("supervisor", Role.SUPERVISOR, "Sam", "Supervisor"),
    ("agent", Role.AGENT, "Alex", "Agent"),
]


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD", "contactcenter")


def seed() -> list[str]:
    User = get_user_model()
    lines = []
    for username, role, first, last in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "is_staff": role == Role.ADMIN}
        )
        if created:
            user.set_password(demo_password())
            user.save()
        user.groups.add(Group.objects.get(name=role))
        lines.append(f"{role:<11} {username} / {demo_password()}")
    return lines
