"""The legs of a voicemail call-back, driven by their webhooks (flow ``vm_callback``).

The user's phone rings first; when they answer, the caller is dialled with
``link_to`` + ``bridge_on_answer`` so Telnyx joins the two legs the moment the
caller picks up. Whichever side gives up first, the other leg is not left
ringing or waiting in silence.
"""

from apps.calls.flows import register_flow
from apps.calls.models import Call
from apps.calls.services import call_hangup, call_set_flow, call_speak
from apps.recordings.models import VoicemailCallback
from apps.recordings.voicemail.services import CALLBACK_FLOW, voicemail_callback_dial
from apps.telnyx.events import WebhookEvent

Status = VoicemailCallback.Status


@register_flow(CALLBACK_FLOW)
def voicemail_callback_flow(call: Call, event: WebhookEvent) -> None:
    context = event.client_state or call.flow_state
    callback = VoicemailCallback.objects.select_for_update().filter(pk=context.get("cb")).first()
    if callback is None:
        return
    if context.get("leg") == "user":
        _user_leg(callback, call, event)
    else:
        _caller_leg(callback, call, event)


def _user_leg(callback: VoicemailCallback, call: Call, event: WebhookEvent) -> None:
    kind = event.event_type
    if kind == "call.initiated" and callback.user_call_id is None:
        call_set_flow(call=call, flow=CALLBACK_FLOW, state={"cb": callback.pk, "leg": "user"})
        _set(callback, user_call=call)
    elif kind == "call.answered" and callback.status == Status.RINGING_USER:
        _set(callback, status=Status.RINGING_CALLER)
        call_speak(call=call, text=f"Calling back {callback.voicemail.from_number}. Please wait.",
                   client_state={"flow": CALLBACK_FLOW, "cb": callback.pk, "leg": "user"}, key="vm-callback:announce")
        voicemail_callback_dial(callback, to=callback.voicemail.from_number, leg="caller", link_to=call.call_control_id)
    elif kind == "call.hangup":
        if callback.status == Status.RINGING_USER:
            _set(callback, status=Status.USER_NO_ANSWER)
        elif callback.status == Status.RINGING_CALLER:
            _set(callback, status=Status.CANCELLED)
            if callback.caller_call is not None:
                call_hangup(call=callback.caller_call, key="vm-callback:cancel")
        elif callback.status == Status.CONNECTED:
            _set(callback, status=Status.COMPLETED)


def _caller_leg(callback: VoicemailCallback, call: Call, event: WebhookEvent) -> None:
    kind = event.event_type
    if kind == "call.initiated" and callback.caller_call_id is None:
        call.parent = callback.user_call
        call.save(update_fields=["parent"])
        call_set_flow(call=call, flow=CALLBACK_FLOW, state={"cb": callback.pk, "leg": "caller"})
        _set(callback, caller_call=call)
    if callback.status == Status.CANCELLED and kind in ("call.initiated", "call.answered"):
        # The user hung up before this leg's first webhook told us its id.
        call_hangup(call=call, key="vm-callback:cancel")
    elif kind == "call.answered" and callback.status == Status.RINGING_CALLER:
        _set(callback, status=Status.CONNECTED)
    elif kind == "call.hangup":
        if callback.status == Status.RINGING_CALLER:
            _set(callback, status=Status.CALLER_NO_ANSWER)
            if callback.user_call is not None:
                call_hangup(call=callback.user_call, key="vm-callback:no-answer")
        elif callback.status == Status.CONNECTED:
            _set(callback, status=Status.COMPLETED)


def _set(callback: VoicemailCallback, **changes) -> None:
    for field, value in changes.items():
        setattr(callback, field, value)
    callback.save(update_fields=[*changes, "updated_at"])
