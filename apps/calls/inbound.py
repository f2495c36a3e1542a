"""Where a new inbound call goes: decided by the number that was dialled.

Apps register a router per ``PhoneNumber.route`` value. A call to a number
the center does not own is rejected at once rather than left ringing.
"""

import logging
from collections.abc import Callable

from apps.calls.models import Call
from apps.calls.services import call_log, call_reject
from apps.numbers.models import PhoneNumber
from apps.telnyx.events import WebhookEvent

logger = logging.getLogger(__name__)

Router = Callable[[Call, PhoneNumber, WebhookEvent], None]
_routers: dict[str, Router] = {}


def register_route(route: str):
    def decorator(fn: Router) -> Router:
        _routers[route] = fn
        return fn

    return decorator


def inbound_route(call: Call, event: WebhookEvent) -> None:
    """Route a new inbound leg by its dialled number (called once per leg)."""
    number = PhoneNumber.objects.routable().filter(e164=call.to_number).first()  # released: not ours
    router = _routers.get(number.route) if number else None
    if number is None or router is None:
        reason = "number not owned" if number is None else f"no router for route {number.route!r}"
        logger.info("rejecting inbound call to %s: %s", call.to_number, reason)
        call_log(call=call, kind="rejected", data={"reason": reason})
        call_reject(call=call)
        return
    call.phone_number = number  # saved by the router's call_set_flow
    router(call, number, event)
