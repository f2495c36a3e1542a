from django.contrib import admin

from apps.queues.models import Disposition, Offer, Queue, QueueEntry, QueueMember, QueueSkill, Transfer


class QueueMemberInline(admin.TabularInline):
    model = QueueMember
    extra = 0
    autocomplete_fields = ("agent",)
    readonly_fields = ("last_offered_at",)


class QueueSkillInline(admin.TabularInline):
    model = QueueSkill
    extra = 0
    autocomplete_fields = ("skill",)


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    """Saving here skips the checks the queue pages and the API run (e.g. an overflow that cannot work)."""

    list_display = ("name", "strategy", "ring_timeout_secs", "max_wait_secs", "overflow_action", "service_level_secs")
    list_filter = ("strategy", "overflow_action")
    search_fields = ("name",)
    inlines = [QueueMemberInline, QueueSkillInline]


@admin.register(Disposition)
class DispositionAdmin(admin.ModelAdmin):
    list_display = ("name", "active", "position")
    list_editable = ("active", "position")
    search_fields = ("name",)


class _ReadOnly(admin.ModelAdmin):
    """Routing's records: written by the dispatcher and the calls, read here."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(QueueEntry)
class QueueEntryAdmin(_ReadOnly):
    list_display = ("created_at", "queue", "call", "kind", "status", "priority", "entered_at", "left_at",
                    "leave_reason", "agent")
    list_filter = ("status", "kind", "queue")


@admin.register(Offer)
class OfferAdmin(_ReadOnly):
    list_display = ("created_at", "agent", "entry", "kind", "status", "end_reason", "answered_at", "ended_at",
                    "disposition")
    list_filter = ("status", "kind", "disposition")
    list_select_related = ("agent__user", "entry__queue", "disposition")


@admin.register(Transfer)
class TransferAdmin(_ReadOnly):
    list_display = ("created_at", "offer", "mode", "target", "to_agent", "to_queue", "to_number", "status")
    list_filter = ("mode", "target", "status")
