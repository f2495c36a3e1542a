"""Which code runs for which webhook event type.

Apps register handlers at import time (from their ``handlers`` module, loaded
in ``AppConfig.ready``). A pattern is an exact event type or a prefix ending in
``*`` (``"conference.*"``). Handlers run in ascending ``order``, all inside the
event's processing transaction.
"""

from collections.abc import Callable

from apps.telnyx.events import WebhookEvent

Handler = Callable[[WebhookEvent], None]
_handlers: list[tuple[int, str, Handler]] = []


def on_event(*patterns: str, order: int = 100):
    def decorator(fn: Handler) -> Handler:
        for pattern in patterns:
            _handlers.append((order, pattern, fn))
        _handlers.sort(key=lambda item: item[0])
        return fn

    return decorator


def handlers_for(event_type: str) -> list[Handler]:
    found = []
    for _, pattern, fn in _handlers:
        matches = event_type.startswith(pattern[:-1]) if pattern.endswith("*") else event_type == pattern
        if matches and fn not in found:
            found.append(fn)
    return found
