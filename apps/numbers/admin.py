from django.contrib import admin

from apps.numbers.models import CallerLookup, NumberJob, PhoneNumber


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ("e164", "label", "status", "route", "tracking_source", "telnyx_id")
    list_filter = ("status", "route")
    search_fields = ("e164", "label", "tracking_source", "tracking_campaign")


@admin.register(NumberJob)
class NumberJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "phone_number", "status", "step", "created_by")
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in NumberJob._meta.fields]


@admin.register(CallerLookup)
class CallerLookupAdmin(admin.ModelAdmin):
    list_display = ("phone_number", "caller_name", "status", "looked_up_at")
    search_fields = ("phone_number", "caller_name")
