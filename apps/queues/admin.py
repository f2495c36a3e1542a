from django.contrib import admin

from apps.queues.models import Queue, QueueEntry


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(QueueEntry)
class QueueEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "queue", "call", "status", "entered_at", "left_at", "leave_reason")
    list_filter = ("status", "queue")
    readonly_fields = [f.name for f in QueueEntry._meta.fields]

    def has_add_permission(self, request):
        return False
