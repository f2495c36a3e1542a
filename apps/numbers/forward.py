"""The forward route: a tracking number rings a destination with the caller's number as caller ID.

Inbound leg ("parent"): answered, then a new leg is dialled to the
destination with ``from`` = the caller and ``link_to`` = the parent, so the
person answering sees who is calling (a caller who withholds their number,
"anonymous", empty or anything else that is not E.164, cannot lend it as
caller ID: the dial shows the tracking number itself). When they answer
they hear an optional whisper naming the source (spoken on their leg
only), then the legs are bridged and, if the number records calls,
recording starts on the parent (``client_state`` ``{"recording": "call"}``). If the destination is busy,
does not answer or the dial fails, the caller hears why and is hung up.

Either side hanging up ends the other: after the bridge Telnyx does it (the
documented default of ``park_after_unbridge``); before it, this flow hangs
up the leg left behind.

Call log: the parent's ``connected_at`` is the first ``call.bridged`` of
either leg (talk time starts there); ``connect_failure`` says why the
caller never got through (busy, no answer, failed, abandoned). The dial is
keyed per parent, so a replayed ``call.answered`` never dials twice.

Locks: a handler of the outbound leg holds that leg and then locks the
parent; a handler of the parent never locks the outbound leg (it reads it and
sends commands), so the two can never deadlock.
"""

from __future__ import annotations

import logging

from django.conf import settings

from apps.calls.flows import register_flow
from apps.calls.inbound import register_route
from apps.calls.models import Call
from apps.calls.services import (
    call_command,
    call_hangup,
    call_locked,
    call_log,
    call_publish,
    call_set_connected,
    call_set_flow,
    call_speak,
)
from apps.numbers.models import PhoneNumber
from apps.numbers.validation import presented_caller_id
from apps.telnyx.client_state import client_state_encode
from apps.telnyx.events import WebhookEvent
from apps.telnyx.models import TelnyxCommand
from apps.telnyx.services import command_create, on_command_failure

logger = logging.getLogger(__name__)

FLOW = "forward"
SORRY = {
    Call.Outcome.BUSY: "Sorry, the line is busy. Please try again later. Goodbye.",
    Call.Outcome.NO_ANSWER: "Sorry, nobody is available to take your call. Please try again later. Goodbye.",
    Call.Outcome.FAILED: "Sorry, we could not connect your call. Please try again later. Goodbye.",
}
# How the destination leg ended before the bridge -> how the caller's attempt ended.
_DESTINATION_OUTCOME = {
    Call.Outcome.BUSY: Call.Outcome.BUSY,
    Call.Outcome.REJECTED: Call.Outcome.BUSY,  # declined by the callee
    Call.Outcome.NO_ANSWER: Call.Outcome.NO_ANSWER,
    Call.Outcome.ANSWERED: Call.Outcome.NO_ANSWER,  # picked up, then hung up during the whisper
}


@register_route(PhoneNumber.Route.FORWARD)
def forward_route(call: Call, number: PhoneNumber, event: WebhookEvent) -> None:
    call_forward(
        call=call, to=number.forward_to, timeout_secs=number.forward_timeout,
        whisper=number.whisper_text(), record=number.record_calls,
    )


def call_forward(*, call: Call, to: str, timeout_secs: int = 30, whisper: str = "", record: bool = False) -> None:
    """Hand a locked inbound call to the forward flow (answer it first unless it is up already)."""
    state = {"to": to, "timeout": timeout_secs, "whisper": whisper, "record": record}
    call_set_flow(call=call, flow=FLOW, state=state)
    if call.status == Call.Status.ANSWERED:
        _dial(call)
    else:
        call_command(call=call, action="answer", client_state={"flow": FLOW}, key="forward:answer")


@register_flow(FLOW)
def forward_flow(call: Call, event: WebhookEvent) -> None:
    parent_id = event.client_state.get("parent") or call.parent_id
    if parent_id:
        _destination_event(call, int(parent_id), event)
    else:
        _caller_event(call, event)


# --- the caller's leg ---------------------------------------------------------------
def _caller_event(call: Call, event: WebhookEvent) -> None:
    kind = event.event_type
    if kind == "call.answered":
        _dial(call)
    elif kind == "call.bridged":
        _connected(call, event)
    elif kind == "call.speak.ended" and event.client_state.get("step") == "sorry":
        call_hangup(call=call, key="forward:hangup")
    elif kind == "call.hangup":
        _caller_gone(call)


def _dial(call: Call) -> None:
    state = call.flow_state
    if state.get("dialled"):
        return  # a late or repeated call.answered
    caller_id = forward_caller_id(call)
    body = {
        "to": state["to"],
        "from": caller_id,
        "connection_id": call.connection_id or settings.TELNYX_CONNECTION_ID,
        "link_to": call.call_control_id,
        "timeout_secs": int(state.get("timeout") or 30),
        "client_state": client_state_encode({"flow": FLOW, "parent": call.pk}),
    }
    # Not call_command: a failed dial must not be read as "this leg is gone".
    command_create(action="dial", body=body, key=f"{call.call_control_id}:forward:dial")
    call.flow_state = {**state, "dialled": True}
    call.save(update_fields=["flow_state", "updated_at"])
    call_log(call=call, kind="forward.dial", data={"to": state["to"], "caller_id": caller_id})


def forward_caller_id(call: Call) -> str:
    """The caller's number, or the tracking number when the caller withheld theirs."""
    return presented_caller_id(call.from_number, call.phone_number.e164 if call.phone_number_id else call.to_number)


def _connected(call: Call, event: WebhookEvent) -> None:
    if call.connected_at:
        return
    call_set_connected(call=call, at=event.occurred_at)
    if call.flow_state.get("record"):
        call_command(
            call=call, action="record_start", body={"format": "mp3", "channels": "dual"},
            client_state={"flow": FLOW, "recording": "call"}, key="forward:record",
        )


def _caller_gone(call: Call) -> None:
    """The caller hung up: end a destination leg still ringing or whispering; note an abandon."""
    if not call.connected_at and not call.connect_failure:
        call.connect_failure = Call.Outcome.ABANDONED
        call.save(update_fields=["connect_failure", "updated_at"])
    if call.connected_at:
        return  # bridged: Telnyx hangs up the other leg
    for leg in call.legs.exclude(status=Call.Status.ENDED):
        call_hangup(call=leg, key="forward:caller-gone")


# --- the destination's leg ------------------------------------------------------------
def _destination_event(call: Call, parent_id: int, event: WebhookEvent) -> None:
    parent = Call.objects.select_for_update(no_key=True).filter(pk=parent_id).first()
    if parent is None:
        return
    if call.parent_id is None:
        _adopt(call, parent)
    kind = event.event_type
    if kind == "call.hangup":
        _destination_gone(call, parent)
    elif kind == "call.bridged":
        _connected(parent, event)  # whichever leg's call.bridged is processed first
    elif parent.status == Call.Status.ENDED or parent.connect_failure:
        call_hangup(call=call, key="forward:caller-gone")  # the caller left while it rang
    elif kind == "call.answered":
        whisper = parent.flow_state.get("whisper")
        if whisper:
            call_speak(call=call, text=whisper, client_state={"flow": FLOW, "parent": parent.pk},
                       key="forward:whisper")
        else:
            _bridge(parent, call)
    elif kind == "call.speak.ended":
        _bridge(parent, call)


def _adopt(call: Call, parent: Call) -> None:
    call.parent = parent
    call.phone_number_id = parent.phone_number_id
    call.destination = parent.destination or call.to_number
    call.save(update_fields=["parent", "destination", "updated_at"])
    call_set_flow(call=call, flow=FLOW, state={"parent": parent.pk})


def _bridge(parent: Call, leg: Call) -> None:
    call_command(call=parent, action="bridge", body={"call_control_id": leg.call_control_id},
                 client_state={"flow": FLOW}, key="forward:bridge")


def _destination_gone(leg: Call, parent: Call) -> None:
    """The destination's leg ended before the bridge: tell the caller why, then hang up."""
    if parent.connected_at or parent.connect_failure or parent.status == Call.Status.ENDED:
        return
    _caller_hears_failure(parent, _DESTINATION_OUTCOME.get(leg.outcome, Call.Outcome.FAILED))


def _caller_hears_failure(parent: Call, outcome: str) -> None:
    parent.connect_failure = outcome
    parent.version += 1
    parent.save(update_fields=["connect_failure", "version", "updated_at"])
    call_log(call=parent, kind="forward.failed", data={"outcome": outcome})
    call_publish(parent)
    call_speak(call=parent, text=SORRY[outcome], client_state={"flow": FLOW, "step": "sorry"}, key="forward:sorry")


@on_command_failure("dial", "bridge")
def forward_command_failed(command: TelnyxCommand) -> None:
    """Telnyx refused the dial (bad destination, no outbound profile...) or the bridge:
    the caller must not be left waiting in silence."""
    if command.key.endswith(":forward:dial"):
        parent_ccid = command.body.get("link_to") or ""
    elif command.key.endswith(":forward:bridge"):
        parent_ccid = command.call_control_id
    else:
        return
    parent = call_locked(parent_ccid)
    if parent is None or parent.status == Call.Status.ENDED or parent.connected_at or parent.connect_failure:
        return
    logger.warning("forward of call %s failed at %s: %s", parent.pk, command.action, command.error)
    for leg in parent.legs.exclude(status=Call.Status.ENDED):
        call_hangup(call=leg, key="forward:abandon-leg")
    _caller_hears_failure(parent, Call.Outcome.FAILED)
