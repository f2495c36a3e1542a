from apps.core.navigation import nav_for
from apps.core.roles import Role, user_can


def roles(request):
    user = getattr(request, "user", None)
    authenticated = bool(user) and user.is_authenticated
    return {
        "can_admin": authenticated and user_can(user, Role.ADMIN),
        "can_supervise": authenticated and user_can(user, Role.SUPERVISOR),
        "can_take_calls": authenticated and user_can(user, Role.AGENT),
        "nav_items": nav_for(user) if authenticated else [],
    }
