from django.contrib import admin

from apps.recordings.models import Recording, Voicemail, VoicemailBox, VoicemailCallback


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ("created_at", "purpose", "call", "status", "format")
    list_filter = ("purpose", "status")
    readonly_fields = [f.name for f in Recording._meta.fields]


@admin.register(VoicemailBox)
class VoicemailBoxAdmin(admin.ModelAdmin):
    list_display = ("name", "ivr", "queue", "callback_number")
    search_fields = ("name",)


class VoicemailCallbackInline(admin.TabularInline):
    model = VoicemailCallback
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in VoicemailCallback._meta.fields]


@admin.register(Voicemail)
class VoicemailAdmin(admin.ModelAdmin):
    list_display = ("created_at", "box", "from_number", "duration_seconds", "status", "handled_by")
    list_filter = ("status", "box")
    search_fields = ("from_number", "caller_name")
    readonly_fields = ("box", "recording", "call", "from_number", "caller_name", "to_number", "duration_seconds",
                       "created_at", "handled_at", "handled_by")
    inlines = [VoicemailCallbackInline]
