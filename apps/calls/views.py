from django.shortcuts import get_object_or_404, render

from apps.calls.models import Call
from apps.core.decorators import role_required
from apps.core.roles import Role


@role_required(Role.SUPERVISOR)
def call_detail_page(request, call_id: int):
    call = get_object_or_404(Call.objects.select_related("phone_number"), pk=call_id)
    events = call.events.select_related("actor")
    return render(request, "calls/call_detail.html", {"call": call, "events": events})
