from django.shortcuts import get_object_or_404, render

from apps.core.decorators import role_required
from apps.core.roles import Role
from apps.ivr.models import IvrFlow
from apps.ivr.selectors import ivr_flow_document, ivr_flow_list


@role_required(Role.ADMIN)
def ivr_flow_list_page(request):
    return render(request, "ivr/flow_list.html", {"flows": ivr_flow_list()})


@role_required(Role.ADMIN)
def ivr_flow_builder_page(request, flow_id: int | None = None):
    """The builder: a Preact page that loads and saves the flow through the API."""
    flow = get_object_or_404(IvrFlow, pk=flow_id) if flow_id else None
    return render(request, "ivr/flow_builder.html", {"flow": flow, "document": ivr_flow_document(flow) if flow else None})
