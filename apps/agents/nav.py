from apps.core.navigation import NavItem
from apps.core.roles import Role

ITEMS = [NavItem("Agents", "agents-page", Role.SUPERVISOR, order=36)]
