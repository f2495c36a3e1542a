from apps.core.navigation import NavItem
from apps.core.roles import Role

# Agents and supervisors both work the voicemail boxes.
ITEMS = [NavItem("Voicemail", "voicemail-page", (Role.AGENT, Role.SUPERVISOR), order=40)]
