from django.contrib import admin, messages

from apps.telnyx.models import TelnyxCommand, TelnyxEvent
from apps.telnyx.services import events_reprocess


@admin.register(TelnyxEvent)
class TelnyxEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "event_type", "call_control_id", "status", "attempts", "error")
    list_filter = ("status", "event_type")
    search_fields = ("event_id", "call_control_id")
    readonly_fields = [f.name for f in TelnyxEvent._meta.fields]
    actions = ["reprocess"]

    @admin.action(description="Process the selected events again")
    def reprocess(self, request, queryset):
        count = events_reprocess(pks=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} events queued for processing.", messages.SUCCESS)

    def has_add_permission(self, request):
        return False


@admin.register(TelnyxCommand)
class TelnyxCommandAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "call_control_id", "status", "attempts", "response_status", "error")
    list_filter = ("status", "action")
    search_fields = ("command_id", "call_control_id", "key")
    readonly_fields = [f.name for f in TelnyxCommand._meta.fields]

    def has_add_permission(self, request):
        return False
