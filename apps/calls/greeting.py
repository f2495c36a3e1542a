"""The simplest route: answer, speak the number's greeting, hang up."""

from apps.calls.flows import register_flow
from apps.calls.inbound import register_route
from apps.calls.models import Call
from apps.calls.services import call_answer, call_hangup, call_set_flow, call_speak
from apps.numbers.models import PhoneNumber
from apps.telnyx.events import WebhookEvent

FLOW = "greeting"
DEFAULT_GREETING = "Thank you for calling. This line is not staffed right now. Goodbye."


@register_route(PhoneNumber.Route.GREETING)
def greeting_route(call: Call, number: PhoneNumber, event: WebhookEvent) -> None:
    call_set_flow(call=call, flow=FLOW, state={"text": number.greeting or DEFAULT_GREETING})
    call_answer(call=call, client_state={"flow": FLOW})


@register_flow(FLOW)
def greeting_flow(call: Call, event: WebhookEvent) -> None:
    if call.status == Call.Status.ENDED:
        return
    if event.event_type == "call.answered":
        text = call.flow_state.get("text") or DEFAULT_GREETING
        call_speak(call=call, text=text, client_state={"flow": FLOW}, key="greeting:speak")
    elif event.event_type == "call.speak.ended":
        call_hangup(call=call, key="greeting:hangup")
