from django.contrib import admin

from apps.agents.models import Agent, AgentSkill, AgentStatusChange, Skill


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "created_at")
    search_fields = ("name",)


class AgentSkillInline(admin.TabularInline):
    model = AgentSkill
    extra = 0
    autocomplete_fields = ("skill",)


class AgentStatusChangeInline(admin.TabularInline):
    model = AgentStatusChange
    fk_name = "agent"
    extra = 0
    max_num = 0
    can_delete = False
    fields = readonly_fields = ("at", "old_status", "new_status", "reason", "actor")


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    """Phones and skills are edited here; the status only moves through its state machine (the workspace, routing)."""

    list_display = ("__str__", "status", "status_reason", "endpoint", "status_changed_at")
    list_filter = ("status", "endpoint")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    autocomplete_fields = ("user",)
    readonly_fields = ("status", "status_reason", "status_changed_at", "idle_since", "version", "created_at")
    inlines = [AgentSkillInline, AgentStatusChangeInline]


@admin.register(AgentStatusChange)
class AgentStatusChangeAdmin(admin.ModelAdmin):
    list_display = ("at", "agent", "old_status", "new_status", "reason", "actor")
    list_filter = ("new_status", "agent")
    readonly_fields = [f.name for f in AgentStatusChange._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
