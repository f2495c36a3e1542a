"""The Django admin of IVR flows.

The builder and the API save a flow only if it could run (``apps.ivr.validation``);
the admin runs the same checks before it saves a flow with its nodes, or a node
with its options, so the engine can trust whatever graph it finds. A refused save
shows the problems (each naming its node) above the nodes or options. Deleting a
node on its own page is not checked: delete it on its flow's page (a call that
reaches a deleted node goes to the flow's fallback).
"""

from django import forms
from django.contrib import admin
from django.db.models import F

from apps.ivr.models import IvrFlow, IvrNode, IvrOption, IvrStep
from apps.ivr.selectors import ivr_node_document
from apps.ivr.validation import flow_problems
from apps.queues.models import Queue


def flow_problem_texts(flow: IvrFlow, nodes: list[dict]) -> list[str]:
    """What keeps ``flow`` with these node documents from running (empty: it may be saved)."""
    try:
        problems = flow_problems(
            entry=flow.entry_key, fallback=flow.fallback_key, max_steps=flow.max_steps, voice=flow.voice,
            language=flow.language, nodes=nodes, queue_ids=set(Queue.objects.values_list("pk", flat=True)),
        )
    except (TypeError, AttributeError, ValueError) as exc:  # JSON the checks cannot even read
        return [f"A node's prompt or settings are not in the shape its kind needs ({exc})."]
    return [p.text() for p in problems]


def _saved_nodes(flow: IvrFlow, *, exclude=()) -> list[IvrNode]:
    if flow.pk is None:
        return []
    return list(flow.nodes.exclude(pk__in=[pk for pk in exclude if pk]).prefetch_related("options"))


def _kept_forms(formset):
    return [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]


class IvrNodeFormSet(forms.BaseInlineFormSet):
    """The flow's nodes as edited on the flow's page, checked as a graph together with the flow's settings."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        flow, documents, edited = self.instance, [], []
        for form in self.forms:
            if not form.cleaned_data:
                continue
            edited.append(form.instance.pk)
            if form.cleaned_data.get("DELETE"):
                continue
            node = form.instance  # carries the form's values (the form has been cleaned)
            options = list(node.options.all()) if node.pk else []
            documents.append(ivr_node_document(node, options))
        documents += [ivr_node_document(node) for node in _saved_nodes(flow, exclude=edited)]
        if problems := flow_problem_texts(flow, documents):
            raise forms.ValidationError(problems)


class IvrOptionFormSet(forms.BaseInlineFormSet):
    """A node's options, checked with the rest of its flow as it would be after the save."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        node = self.instance  # carries the node form's values
        if node.flow_id is None:
            return
        options = [
            IvrOption(node=node, digits=f.cleaned_data.get("digits") or "", speech=f.cleaned_data.get("speech") or "",
                      target_key=f.cleaned_data.get("target_key") or "")
            for f in _kept_forms(self)
        ]
        others = _saved_nodes(node.flow, exclude=[node.pk])
        documents = [ivr_node_document(other) for other in others] + [ivr_node_document(node, options)]
        problems = flow_problem_texts(node.flow, documents)
        moved_from = IvrFlow.objects.filter(nodes__pk=node.pk).exclude(pk=node.flow_id).first() if node.pk else None
        if moved_from is not None:  # the flow it leaves must still run without it
            left = [ivr_node_document(other) for other in _saved_nodes(moved_from, exclude=[node.pk])]
            problems += [f"{moved_from.name}: {text}" for text in flow_problem_texts(moved_from, left)]
        if problems:
            raise forms.ValidationError(problems)


class IvrNodeInline(admin.StackedInline):
    model = IvrNode
    formset = IvrNodeFormSet
    extra = 0
    fields = ("key", "kind", "name", "position", "prompt", "settings", "queue")
    show_change_link = True


@admin.register(IvrFlow)
class IvrFlowAdmin(admin.ModelAdmin):
    """Saves go through the same checks as the builder's; the builder is easier (options live on each node's page)."""

    list_display = ("name", "entry_key", "max_steps", "version", "updated_at")
    search_fields = ("name",)
    readonly_fields = ("version", "updated_by", "created_at", "updated_at")
    inlines = [IvrNodeInline]

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1  # so an editor holding the older version cannot save over this
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


class IvrOptionInline(admin.TabularInline):
    model = IvrOption
    formset = IvrOptionFormSet
    extra = 0


@admin.register(IvrNode)
class IvrNodeAdmin(admin.ModelAdmin):
    list_display = ("flow", "key", "kind", "name")
    list_filter = ("kind", "flow")
    inlines = [IvrOptionInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        IvrFlow.objects.filter(pk=obj.flow_id).update(version=F("version") + 1, updated_by=request.user)


@admin.register(IvrStep)
class IvrStepAdmin(admin.ModelAdmin):
    list_display = ("call", "step", "node_key", "node_kind", "digits", "outcome", "next_key", "entered_at")
    list_filter = ("outcome", "node_kind", "flow")
    readonly_fields = [f.name for f in IvrStep._meta.fields]

    def has_add_permission(self, request):
        return False
