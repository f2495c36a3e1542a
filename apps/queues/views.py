"""Queue pages: the list with live figures and the dispositions, one queue's settings. Admins change, supervisors read."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.core.decorators import role_required
from apps.core.exceptions import ApplicationError
from apps.core.roles import Role, user_can
from apps.queues import selectors
from apps.queues.forms import DispositionForm, QueueForm
from apps.queues.models import Disposition, Queue
from apps.queues.services import config


@role_required(Role.SUPERVISOR)
def queues_page(request):
    queues = selectors.queue_list()
    return render(request, "queues/queues.html", {
        "queues": [(queue, selectors.queue_stats(queue)) for queue in queues],
        "dispositions": Disposition.objects.all(),
        "can_edit": user_can(request.user, Role.ADMIN),
        "disposition_form": DispositionForm(),
    })


@role_required(Role.SUPERVISOR)
def queue_page(request, queue_id: int | None = None):
    queue = get_object_or_404(Queue, pk=queue_id) if queue_id else None
    can_edit = user_can(request.user, Role.ADMIN)
    if queue is None and not can_edit:
        raise PermissionDenied
    form = QueueForm(request.POST or None, instance=Queue.objects.get(pk=queue.pk) if queue else None)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            values = {"members": form.members(), "skills": form.required_skills(), **form.settings_values()}
            try:
                saved = config.queue_update(queue=queue, **values) if queue else config.queue_create(**values)
            except ApplicationError as exc:
                field = exc.extra.get("field")
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                messages.success(request, f"Queue {saved.name} saved.")
                return redirect("queues-page")
    line = list(selectors.queue_line(queue)) if queue else []
    failed_callbacks = list(selectors.queue_failed_callbacks(queue)) if queue else []
    return render(request, "queues/queue.html", {"queue": queue, "form": form, "can_edit": can_edit, "line": line,
                                                 "failed_callbacks": failed_callbacks,
                                                 "stats": selectors.queue_stats(queue) if queue else None})


@require_POST
@role_required(Role.ADMIN)
def queue_delete_page(request, queue_id: int):
    queue = get_object_or_404(Queue, pk=queue_id)
    try:
        config.queue_delete(queue=queue)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("queue-page", queue_id=queue.pk)
    messages.info(request, f"Queue {queue.name} deleted.")
    return redirect("queues-page")


@require_POST
@role_required(Role.ADMIN)
def disposition_create_page(request):
    form = DispositionForm(request.POST)
    if form.is_valid():
        try:
            disposition = config.disposition_create(name=form.cleaned_data["name"],
                                                    position=Disposition.objects.count())
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Disposition {disposition.name} added.")
    return redirect(reverse("queues-page") + "#dispositions")


@require_POST
@role_required(Role.ADMIN)
def disposition_delete_page(request, disposition_id: int):
    disposition = get_object_or_404(Disposition, pk=disposition_id)
    deleted = config.disposition_delete(disposition=disposition)
    messages.info(request, f"Disposition {disposition.name} {'deleted' if deleted else 'retired (calls use it)'}.")
    return redirect(reverse("queues-page") + "#dispositions")
