from django.contrib import admin

from apps.numbers.models import PhoneNumber


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ("e164", "label", "route", "telnyx_id")
    search_fields = ("e164", "label")
