from apps.core.navigation import NavItem
from apps.core.roles import Role

ITEMS = [NavItem("IVRs", "ivr-flows-page", Role.ADMIN, order=30)]
