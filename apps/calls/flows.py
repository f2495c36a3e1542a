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
    # A hang-up also goes to the flow that owns the call now. Its client_state
    # is that of the last command Telnyx applied, which can be an older
    # flow's: a caller who hangs up after the IVR handed the call to a queue
    # but before Telnyx applied the enqueue still carries "ivr". The IVR
    # ignores it (the call has moved on), so without this the queue would
    # never learn the caller left and its entry would wait for nobody.
    # Handlers treat a second hang-up as a no-op, so this is safe.
    if event.event_type == "call.hangup" and call.flow and call.flow != name:
        owner = _flows.get(call.flow)
        if owner is not None:
            owner(call, event)
