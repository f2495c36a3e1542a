from apps.core.navigation import NavItem
from apps.core.roles import Role

ITEMS = [NavItem("Queues", "queues-page", Role.SUPERVISOR, order=35)]
