from apps.core.navigation import NavItem
from apps.core.roles import Role

ITEMS = [
    NavItem("Configure", "admin-home", Role.ADMIN, order=10),
    NavItem("Live calls", "supervisor-home", Role.SUPERVISOR, order=50),
    NavItem("Workspace", "agent-home", Role.AGENT, order=5),
]
