"""Flows drive a call after routing: greeting, IVR, queue, agent leg...

A flow is a function ``(call, event) -> None`` registered under a name. The
name rides in ``client_state["flow"]`` of the commands a flow sends and is
stored on the call, so each webhook reaches the flow that caused it even
when it overtakes the database update.
"""

from collections.abc import Callable

from apps.calls.models import Call
from apps.telnyx.events import WebhookEvent

FlowHandler = Callable[[Call, WebhookEvent], None]
_flows: dict[str, FlowHandler] = {}


def register_flow(name: str):
    def decorator(fn: FlowHandler) -> FlowHandler:
        _flows[name] = fn
        return fn

    return decorator


def flow_dispatch(call: Call, event: WebhookEvent) -> None:
    name = event.client_state.get("flow") or call.flow
    handler = _flows.get(name)
    if handler is not None:
        handler(call, event)
