from apps.core.roles import Role, user_can


def roles(request):
    user = getattr(request, "user", None)
    return {
        "can_admin": bool(user) and user_can(user, Role.ADMIN),
        "can_supervise": bool(user) and user_can(user, Role.SUPERVISOR),
        "can_take_calls": bool(user) and user_can(user, Role.AGENT),
    }
