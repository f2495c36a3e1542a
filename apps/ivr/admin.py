from django.contrib import admin

from apps.ivr.models import IvrFlow, IvrNode, IvrOption, IvrStep


class IvrNodeInline(admin.StackedInline):
    model = IvrNode
    extra = 0
    fields = ("key", "kind", "name", "position", "prompt", "settings", "queue")
    show_change_link = True


@admin.register(IvrFlow)
class IvrFlowAdmin(admin.ModelAdmin):
    """Saving here skips the flow checks the builder and the API run: prefer the builder."""

    list_display = ("name", "entry_key", "max_steps", "version", "updated_at")
    search_fields = ("name",)
    readonly_fields = ("version", "updated_by", "created_at", "updated_at")
    inlines = [IvrNodeInline]


class IvrOptionInline(admin.TabularInline):
    model = IvrOption
    extra = 0


@admin.register(IvrNode)
class IvrNodeAdmin(admin.ModelAdmin):
    list_display = ("flow", "key", "kind", "name")
    list_filter = ("kind", "flow")
    inlines = [IvrOptionInline]


@admin.register(IvrStep)
class IvrStepAdmin(admin.ModelAdmin):
    list_display = ("call", "step", "node_key", "node_kind", "digits", "outcome", "next_key", "entered_at")
    list_filter = ("outcome", "node_kind", "flow")
    readonly_fields = [f.name for f in IvrStep._meta.fields]

    def has_add_permission(self, request):
        return False
