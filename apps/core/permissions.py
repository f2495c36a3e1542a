"""DRF permissions for the three roles; every API view names one of them."""

from rest_framework.permissions import BasePermission

from apps.core.roles import Role, user_can


class _RolePermission(BasePermission):
    role: str

    def has_permission(self, request, view):
        return user_can(request.user, self.role)


class IsAdminRole(_RolePermission):
    role = Role.ADMIN


class IsSupervisorRole(_RolePermission):
    """Supervisors and admins."""

    role = Role.SUPERVISOR


class IsAgentRole(_RolePermission):
    role = Role.AGENT


class IsAgentOrSupervisor(BasePermission):
    def has_permission(self, request, view):
        return user_can(request.user, Role.AGENT) or user_can(request.user, Role.SUPERVISOR)
