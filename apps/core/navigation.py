"""The top navigation: each app lists its pages in ``apps/<app>/nav.py``.

``ITEMS = [NavItem("Numbers", "numbers-page", Role.ADMIN, order=20)]``; the
bar shows, by ``order``, the items the user may see: ``role`` is one role or
a tuple of roles any of which will do.
"""

import functools
from dataclasses import dataclass

from django.urls import reverse

from apps.core.discovery import project_modules
from apps.core.roles import user_can


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    role: str | tuple[str, ...]
    order: int = 100

    def visible_to(self, user) -> bool:
        roles = self.role if isinstance(self.role, tuple) else (self.role,)
        return any(user_can(user, role) for role in roles)


@functools.cache
def _all_items() -> tuple[NavItem, ...]:
    items = [item for module in project_modules("nav") for item in getattr(module, "ITEMS", [])]
    return tuple(sorted(items, key=lambda item: (item.order, item.label)))


def nav_for(user) -> list[dict]:
    return [{"label": item.label, "url": reverse(item.url_name)} for item in _all_items() if item.visible_to(user)]
