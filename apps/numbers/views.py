"""Admin pages of numbers: the list with search, ordering and imports; one number's settings."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.decorators import role_required
from apps.core.exceptions import ApplicationError
from apps.core.roles import Role
from apps.numbers import selectors, services
from apps.numbers.apis import (
    FEATURES,
    NUMBER_TYPE_LABELS,
    NUMBER_TYPES,
    NumberJobOutputSerializer,
    NumberOutputSerializer,
)
from apps.numbers.forms import PhoneNumberForm
from apps.numbers.models import PhoneNumber


@role_required(Role.ADMIN)
def numbers_page(request):
    numbers = selectors.number_list()
    released = selectors.number_list(filters={"status": PhoneNumber.Status.RELEASED})
    initial = {
        "numbers": NumberOutputSerializer(numbers, many=True).data,
        "jobs": NumberJobOutputSerializer(selectors.number_job_list(user=request.user), many=True).data,
        "features": FEATURES,
        "number_types": [[kind, NUMBER_TYPE_LABELS[kind]] for kind in NUMBER_TYPES],
        "connection_id": settings.TELNYX_CONNECTION_ID,
    }
    return render(request, "numbers/numbers.html", {"initial": initial, "released": released})


@role_required(Role.ADMIN)
def number_edit_page(request, number_id: int):
    number = get_object_or_404(PhoneNumber, pk=number_id)
    form = PhoneNumberForm(request.POST or None, instance=PhoneNumber.objects.get(pk=number.pk))
    if request.method == "POST" and not number.is_released and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            services.phone_number_update(number=number, data=data)
        except ApplicationError as exc:
            form.add_error(exc.extra.get("field") if exc.extra.get("field") in form.fields else None, exc.message)
        else:
            messages.success(request, f"{number.e164} saved.")
            return redirect("numbers-page")
    calls = number.calls.filter(parent__isnull=True).order_by("-initiated_at")[:10]
    return render(request, "numbers/number_edit.html", {"number": number, "form": form, "recent_calls": calls})


@require_POST
@role_required(Role.ADMIN)
def number_release_page(request, number_id: int):
    number = get_object_or_404(PhoneNumber, pk=number_id)
    try:
        services.number_release_start(number=number, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("number-edit-page", number_id=number.pk)
    messages.info(request, f"Releasing {number.e164} at Telnyx. Its calls stay in the call log.")
    return redirect("numbers-page")
