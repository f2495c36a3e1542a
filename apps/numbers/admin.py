from django.contrib import admin

from apps.numbers.models import CallerLookup, NumberJob, PhoneNumber


NO_DELETE = (
    "Numbers cannot be deleted here: deleting one would unlink its calls, and the call log and analytics "
    "would lose them. Release a number from the Numbers page instead: it is deleted at Telnyx and its calls "
    "keep their history."
)


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ("e164", "label", "status", "route", "tracking_source", "telnyx_id")
    list_filter = ("status", "route")
    search_fields = ("e164", "label", "tracking_source", "tracking_campaign")

    def has_delete_permission(self, request, obj=None):
        return False  # releasing is the way (NO_DELETE); this also removes the bulk delete action

    def get_fieldsets(self, request, obj=None):
        return [(None, {"fields": self.get_fields(request, obj), "description": NO_DELETE})]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "subtitle": NO_DELETE}
        return super().changelist_view(request, extra_context)


@admin.register(NumberJob)
class NumberJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "phone_number", "status", "step", "created_by")
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in NumberJob._meta.fields]


@admin.register(CallerLookup)
class CallerLookupAdmin(admin.ModelAdmin):
    list_display = ("phone_number", "caller_name", "status", "looked_up_at")
    search_fields = ("phone_number", "caller_name")
