from apps.core.navigation import NavItem
from apps.core.roles import Role

ITEMS = [NavItem("Numbers", "numbers-page", Role.ADMIN, order=20)]
