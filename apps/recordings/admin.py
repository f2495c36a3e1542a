from django.contrib import admin

from apps.recordings.models import Recording


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ("created_at", "purpose", "call", "status", "format")
    list_filter = ("purpose", "status")
    readonly_fields = [f.name for f in Recording._meta.fields]
