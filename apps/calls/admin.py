from django.contrib import admin

from apps.calls.models import Call, CallEvent


class CallEventInline(admin.TabularInline):
    model = CallEvent
    extra = 0
    can_delete = False
    fields = ("occurred_at", "kind", "old_status", "new_status", "source", "actor", "data")
    readonly_fields = fields


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("created_at", "direction", "from_number", "to_number", "status", "outcome", "flow")
    list_filter = ("status", "direction", "outcome", "flow")
    search_fields = ("call_control_id", "from_number", "to_number", "call_session_id")
    readonly_fields = [f.name for f in Call._meta.fields]
    inlines = [CallEventInline]

    def has_add_permission(self, request):
        return False
