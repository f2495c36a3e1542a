from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from apps.core.decorators import role_required
from apps.core.roles import Role, role_home


@login_required
def home(request):
    """Send each role to its place."""
    return redirect(role_home(request.user))


@login_required
def no_role(request):
    return render(request, "core/no_role.html", status=403)


@role_required(Role.ADMIN)
def admin_home(request):
    return render(request, "core/admin_home.html", {"sandbox": settings.TELNYX_SANDBOX})


@role_required(Role.SUPERVISOR)
def supervisor_home(request):
    return render(request, "core/supervisor_home.html")
