from apps.core.navigation import NavItem
from apps.core.roles import Role

ITEMS = [
    NavItem("Call log", "call-log-page", Role.SUPERVISOR, order=55),
    NavItem("Analytics", "analytics-page", Role.SUPERVISOR, order=60),
]
