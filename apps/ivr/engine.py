"""The IVR engine: moves a caller through a flow, one webhook at a time.

A call in an IVR has a step counter. Entering a node (or retrying a menu) is a
new step: it is written as an :class:`IvrStep` row and in ``call.flow_state``,
and every command the step sends carries ``{"flow": "ivr", "step": n}`` in its
client_state and the key ``ivr:{n}:{what}``. So:

- a webhook whose client_state names an older step (a late ``speak.ended``, a
  duplicate ``gather.ended``) is ignored: it cannot replay a step;
- a step re-run by a re-processed event records no second command (the key);
- the Call row is locked while a webhook is handled (``apps.calls``), so two
  events of one call never move it at the same time.

What happens inside a step is its ``phase``: a menu plays an optional notice
("that was not a choice") and then gathers; a voicemail plays its prompt,
records, and says goodbye. A caller who hangs up mid-way ends the step as
``caller_hangup``; nothing more is sent (``call_command`` refuses ended calls).

Loops are allowed in a flow, but a call that takes more than the flow's
``max_steps`` steps goes to the flow's fallback (once), and is hung up if it
keeps going.

A command Telnyx refuses for good would leave the caller in silence (the
webhook the step waits for never comes): a refused forward goes to the node's
no-answer branch, anything else to the flow's fallback (once); after that the
caller hears a short apology and is hung up.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from apps.calls.flows import register_flow
from apps.calls.inbound import register_route
from apps.calls.models import Call
from apps.calls.services import (
    call_answer,
    call_command,
    call_hangup,
    call_locked,
    call_log,
    call_reject,
    call_set_connected,
    call_set_flow,
    call_speak,
)
from apps.ivr.hours import is_open, ivr_now
from apps.ivr.models import IvrFlow, IvrNode, IvrStep
from apps.ivr.prompts import gather_command, play_command, tts
from apps.numbers.models import PhoneNumber
from apps.numbers.validation import presented_caller_id
from apps.queues.services import queue_enter
from apps.recordings.voicemail.services import voicemail_box_for
from apps.telnyx.client import CALL_GONE_CODE
from apps.telnyx.client_state import client_state_decode, client_state_encode
from apps.telnyx.events import WebhookEvent
from apps.telnyx.models import TelnyxCommand
from apps.telnyx.services import on_command_failure

logger = logging.getLogger(__name__)

FLOW = "ivr"
FORWARD_FLOW = "ivr_forward"
# Steps a call may still take after it hit the limit and went to the fallback.
STEP_GRACE = 10
INTER_DIGIT_MILLIS = 3000
DEFAULT_NOTICES = {
    IvrStep.Outcome.INVALID: "Sorry, that is not one of the choices.",
    IvrStep.Outcome.TIMEOUT: "Sorry, I did not get your choice.",
}
GOODBYE = "Thank you. Your message has been saved. Goodbye."
# Silence (after the caller has spoken) that ends a voicemail recording.
VOICEMAIL_SILENCE_SECS = 5
APOLOGY = "Sorry, we cannot take your call right now. Please call again later. Goodbye."
KEY_NAMES = {"#": "the pound key", "*": "the star key"}
MEDIA_ENDED = ("call.speak.ended", "call.playback.ended")

Kind = IvrNode.Kind
Outcome = IvrStep.Outcome


# --- Entry: a number routed to an IVR -------------------------------------------
@register_route(PhoneNumber.Route.IVR)
def ivr_route(call: Call, number: PhoneNumber, event: WebhookEvent) -> None:
    if number.ivr_id is None:
        call_log(call=call, kind="rejected", data={"reason": "IVR route without a flow"})
        call_reject(call=call)
        return
    ivr_start(call=call, flow=number.ivr)


def ivr_start(*, call: Call, flow: IvrFlow) -> None:
    """Hand a ringing call to ``flow``: answer; the entry node runs once it is answered."""
    call_set_flow(call=call, flow=FLOW, state={"ivr": flow.pk, "step": 0, "phase": "answering"})
    call_answer(call=call, client_state={"flow": FLOW, "step": 0}, key="ivr:answer")


# --- The state of one call in its flow -------------------------------------------
@dataclass
class Run:
    call: Call
    event: WebhookEvent | None  # None: moved by a failed command, not by a webhook
    flow: IvrFlow | None
    state: dict
    _nodes: dict = field(default_factory=dict)
    # Steps to enter once the one being entered is set up (see ``enter``).
    _pending: list = field(default_factory=list)
    _entering: bool = False

    @classmethod
    def load(cls, call: Call, event: WebhookEvent | None) -> Run:
        state = dict(call.flow_state or {})
        return cls(call, event, IvrFlow.objects.filter(pk=state.get("ivr")).first(), state)

    @property
    def at(self) -> datetime:
        return self.event.occurred_at if self.event is not None else timezone.now()

    @property
    def step(self) -> int:
        return int(self.state.get("step") or 0)

    def client_state(self, **extra) -> dict:
        # The step is what guards against replays; the phase tells apart the
        # audio of one step (a voicemail's prompt, then its goodbye); the node
        # is there for whoever reads a webhook (logs, the event log on the call page).
        return {"flow": FLOW, "step": self.step, "phase": self.state.get("phase") or "",
                "node": self.state.get("node") or "", **extra}

    def key(self, what: str) -> str:
        return f"ivr:{self.step}:{what}"

    def node(self, key: str) -> IvrNode | None:
        if key not in self._nodes:
            self._nodes[key] = (
                IvrNode.objects.filter(flow=self.flow, key=key).select_related("queue")
                .prefetch_related("options").first()
                if self.flow and key else None
            )
        return self._nodes[key]

    def current(self) -> IvrNode | None:
        return self.node(self.state.get("node") or "")

    def send(self, action: str, body: dict | None, what: str, **client_state) -> None:
        call_command(call=self.call, action=action, body=body, client_state=self.client_state(**client_state),
                     key=self.key(what))

    def play(self, prompt: dict, what: str, **client_state) -> None:
        flow = self.flow
        action, body = play_command(prompt, voice=flow.voice if flow else "", language=flow.language if flow else "")
        self.send(action, body, what, **client_state)

    def save(self) -> None:
        # A node that handed the call on (a queue) gave it a new flow and state.
        if self.call.flow == FLOW:
            self.call.flow_state = self.state
            self.call.save(update_fields=["flow_state", "updated_at"])


# --- Webhooks of a call in an IVR ------------------------------------------------
@register_flow(FLOW)
def ivr_flow(call: Call, event: WebhookEvent) -> None:
    """Advance the call's IVR on one of its webhooks (the call row is locked)."""
    if call.flow != FLOW:
        return  # it has moved on (to a queue...): a late IVR event
    run = Run.load(call, event)
    if event.event_type == "call.hangup":
        _caller_gone(run)
    else:
        handler = _handler_for(run, event)
        if handler is None:
            return
        handler(run)
    run.save()


def _handler_for(run: Run, event: WebhookEvent):
    """What this event does in the call's current phase; ``None`` for anything stale or foreign."""
    if run.call.status == Call.Status.ENDED:
        return None  # nothing more is sent to a call that has ended
    # Speech is about the caller's present: it is matched against the menu
    # being heard now, whatever client_state Telnyx attaches to it.
    if event.event_type != "call.transcription" and event.client_state.get("step") != run.step:
        return None  # an earlier step's event (late, or delivered again)
    phase = run.state.get("phase") or ""
    if event.event_type in MEDIA_ENDED and event.client_state.get("phase", phase) != phase:
        # The end of audio an earlier phase of this step played, delivered again or late
        # (the voicemail prompt's, once the goodbye plays): it must not end the goodbye.
        return None
    return PHASES.get(phase, {}).get(event.event_type)


def enter(run: Run, key: str, *, attempt: int = 1, notice: dict | None = None) -> None:
    """Start a new step at node ``key`` (or at the fallback if the step limit is reached).

    Some steps go straight on to another (a business-hours node, a missing
    node's fallback) without waiting for the caller. Those are entered here in
    a loop rather than by recursion: a flow may chain or loop such nodes up to
    its step limit (500), deeper than Python's recursion limit. A step entered
    from inside another is queued and runs once that one is set up; every
    caller of ``enter`` does nothing after it.
    """
    run._pending.append((key, attempt, notice))
    if run._entering:
        return
    run._entering = True
    try:
        while run._pending:
            key, attempt, notice = run._pending.pop(0)
            _enter_step(run, key, attempt=attempt, notice=notice)
    finally:
        run._entering = False


def _enter_step(run: Run, key: str, *, attempt: int, notice: dict | None) -> None:
    run.state["step"] = run.step + 1
    limit = (run.flow.max_steps if run.flow else 0) + (STEP_GRACE if run.state.get("limit_hit") else 0)
    if run.step > limit:
        _step_limit(run, key)
        return
    node = run.node(key)
    if node is None:
        _step_row(run, key=key, kind="", outcome=Outcome.MISSING, done=True)
        logger.warning("IVR flow %s has no node %r (call %s)", run.state.get("ivr"), key, run.call.pk)
        _fallback_or_hangup(run)
        return
    previous = run.state.get("node") or ""
    run.state.update(node=key, attempt=attempt, phase="")
    _step_row(run, key=key, kind=node.kind, name=node.name, attempt=attempt)
    call_log(call=run.call, kind="ivr.node", data={"step": run.step, "from": previous, "to": key, "attempt": attempt})
    ENTER[node.kind](run, node, notice)


def _step_limit(run: Run, key: str) -> None:
    fallback = run.flow.fallback_key if run.flow else ""
    first_time = not run.state.get("limit_hit")
    run.state.update(limit_hit=True, node=key, phase="")
    _step_row(run, key=key, kind="", outcome=Outcome.STEP_LIMIT, next_key=fallback if first_time else "", done=True)
    call_log(call=run.call, kind="ivr.step_limit", data={"step": run.step, "node": key})
    if first_time and fallback:
        enter(run, fallback)
    else:
        _hangup(run)


def _fallback_or_hangup(run: Run) -> None:
    fallback = run.flow.fallback_key if run.flow else ""
    if fallback and not run.state.get("limit_hit"):
        run.state["limit_hit"] = True  # at most once: the fallback itself may be what is missing
        enter(run, fallback)
    else:
        _hangup(run)


def _hangup(run: Run) -> None:
    run.state["phase"] = "hangup"
    call_hangup(call=run.call, key=run.key("hangup"))


def _step_row(run: Run, *, key: str, kind: str, name: str = "", attempt: int = 1, outcome: str = "",
              next_key: str = "", done: bool = False) -> IvrStep:
    at = run.at
    return IvrStep.objects.create(
        call=run.call, flow=run.flow, step=run.step, node_key=key, node_kind=kind, node_name=name,
        attempt=attempt, outcome=outcome, next_key=next_key, entered_at=at, left_at=at if done else None,
    )


def _finish(run: Run, outcome: str, *, digits: str = "", speech: str = "", next_key: str = "",
            done: bool = True) -> None:
    """Record how the current step ended (what the caller did, where they went)."""
    changes = {"outcome": outcome, "next_key": next_key}
    if digits:
        changes["digits"] = digits[:32]
    if speech:
        changes["speech"] = speech[:500]
    if done:
        changes["left_at"] = run.at
    IvrStep.objects.filter(call=run.call, step=run.step).update(**changes)


def _caller_gone(run: Run) -> None:
    """The caller hung up: close the step they were in; nothing else is sent."""
    row = IvrStep.objects.filter(call=run.call, step=run.step, left_at__isnull=True).first()
    if row is not None:
        if not row.outcome or row.outcome == Outcome.FORWARDING:
            recorded = run.state.get("phase") == "recording"
            row.outcome = Outcome.RECORDED if recorded else Outcome.CALLER_HANGUP
        row.left_at = run.at
        row.save(update_fields=["outcome", "left_at"])
    call = run.call
    if run.state.get("phase") == "forwarding" and not call.connected_at and not call.connect_failure:
        # Hung up while the forward destination rang: they were trying to reach someone.
        call.connect_failure = Call.Outcome.ABANDONED
        call.save(update_fields=["connect_failure", "updated_at"])
    run.state["phase"] = "ended"


# --- Node kinds ---------------------------------------------------------------------
def _answered(run: Run) -> None:
    if run.flow is None:
        _hangup(run)
        return
    enter(run, run.flow.entry_key)


def _prompt_then(run: Run, node: IvrNode, then) -> None:
    """Play the node's prompt and continue when it ends, or continue at once without one."""
    if node.prompt:
        run.state["phase"] = "playing"
        run.play(node.prompt, "prompt")
    else:
        then(run, node)


def _after_prompt(run: Run) -> None:
    node = run.current()
    if node is None:
        _fallback_or_hangup(run)
        return
    AFTER_PROMPT[node.kind](run, node)


# Menu
def _menu_enter(run: Run, node: IvrNode, notice: dict | None) -> None:
    if node.settings.get("speech") and not run.state.get("transcribing"):
        run.send("transcription_start", {"transcription_engine": "Telnyx", "transcription_tracks": "inbound"},
                 "transcription")
        run.state["transcribing"] = True
    if notice:
        run.state["phase"] = "notice"
        run.play(notice, "notice")
    else:
        _menu_gather(run, node)


def _menu_gather(run: Run, node: IvrNode | None = None) -> None:
    node = node or run.current()
    if node is None:
        _fallback_or_hangup(run)
        return
    options = list(node.options.all())
    if not options:
        _menu_broken(run, node)
        return
    gather = {
        "minimum_digits": 1,
        "maximum_digits": max(len(o.digits) for o in options),
        "valid_digits": "".join(sorted({d for o in options for d in o.digits})),
        "terminating_digit": "#",
        "timeout_millis": int(node.settings.get("timeout_secs") or 5) * 1000,
        "inter_digit_timeout_millis": INTER_DIGIT_MILLIS,
        # One try per step: the engine retries, so each retry can say why
        # (invalid or no input) and is a step of its own in the path.
        "maximum_tries": 1,
    }
    action, body = gather_command(node.prompt, gather, voice=run.flow.voice, language=run.flow.language)
    run.state["phase"] = "gather"
    run.send(action, body, "gather")


def _menu_broken(run: Run, node: IvrNode) -> None:
    """A menu with no options (saved around the checks): the caller cannot choose, so on to its fallback."""
    logger.warning("IVR menu %r of flow %s has no options (call %s)", node.key, run.state.get("ivr"), run.call.pk)
    fallback = node.settings.get("fallback") or ""
    if fallback == node.key:
        fallback = ""
    _finish(run, Outcome.FAILED, next_key=fallback)
    if fallback:
        enter(run, fallback)
    else:
        _fallback_or_hangup(run)


def _menu_notice_played(run: Run) -> None:
    _menu_gather(run)


def _menu_gathered(run: Run) -> None:
    payload = run.event.payload
    if payload.status in ("cancelled", "call_hangup"):
        return  # we stopped it for a spoken choice, or the caller left
    node = run.current()
    if node is None:
        _fallback_or_hangup(run)
        return
    digits = payload.digits or ""
    option = next((o for o in node.options.all() if o.digits == digits), None) if payload.status == "valid" else None
    if option is not None:
        _finish(run, Outcome.SELECTED, digits=digits, next_key=option.target_key)
        enter(run, option.target_key)
        return
    outcome = Outcome.TIMEOUT if payload.status == "timeout" and not digits else Outcome.INVALID
    _menu_retry_or_fallback(run, node, outcome, digits=digits)


def _menu_retry_or_fallback(run: Run, node: IvrNode, outcome: str, *, digits: str = "") -> None:
    attempt = int(run.state.get("attempt") or 1)
    if attempt < int(node.settings.get("max_tries") or 1):
        _finish(run, outcome, digits=digits, next_key=node.key)
        prompt_field = "invalid_prompt" if outcome == Outcome.INVALID else "timeout_prompt"
        notice = node.settings.get(prompt_field) or tts(DEFAULT_NOTICES[outcome])
        enter(run, node.key, attempt=attempt + 1, notice=notice)
    else:
        fallback = node.settings.get("fallback") or ""
        _finish(run, outcome, digits=digits, next_key=fallback)
        if fallback:
            enter(run, fallback)
        else:
            _fallback_or_hangup(run)


def _menu_heard(run: Run) -> None:
    data = getattr(run.event.payload, "transcription_data", {}) or {}
    if data.get("is_final") is False:
        return
    text = str(data.get("transcript") or "").strip().lower()
    node = run.current()
    if not text or node is None or node.kind != Kind.MENU:
        return
    option = next((o for o in node.options.all() if any(_said(p, text) for p in o.phrases)), None)
    if option is None:
        return  # not a choice: the keypad still works and the gather times out as usual
    run.send("gather_stop", None, "gather-stop")
    _finish(run, Outcome.SELECTED, speech=text, next_key=option.target_key)
    enter(run, option.target_key)


def _said(phrase: str, text: str) -> bool:
    return re.search(rf"\b{re.escape(phrase)}\b", text) is not None


def _stop_transcription(run: Run) -> None:
    if run.state.get("transcribing"):
        run.send("transcription_stop", None, "transcription-stop")
        run.state["transcribing"] = False


# Message, hang-up
def _message_enter(run: Run, node: IvrNode, notice: dict | None) -> None:
    _prompt_then(run, node, _message_done)


def _message_done(run: Run, node: IvrNode) -> None:
    next_key = node.settings.get("next") or ""
    _finish(run, Outcome.PLAYED, next_key=next_key)
    if next_key:
        enter(run, next_key)
    else:
        _hangup(run)


def _hangup_enter(run: Run, node: IvrNode, notice: dict | None) -> None:
    _prompt_then(run, node, _hangup_done)


def _hangup_done(run: Run, node: IvrNode) -> None:
    _finish(run, Outcome.HUNG_UP)
    _hangup(run)


# Business hours
def _hours_enter(run: Run, node: IvrNode, notice: dict | None) -> None:
    open_now = is_open(node.settings.get("hours") or {}, ivr_now())
    target = node.settings.get("open" if open_now else "closed") or ""
    _finish(run, Outcome.OPEN if open_now else Outcome.CLOSED, next_key=target)
    enter(run, target)


# Enqueue
def _queue_enter(run: Run, node: IvrNode, notice: dict | None) -> None:
    _prompt_then(run, node, _queue_done)


def _queue_done(run: Run, node: IvrNode) -> None:
    _stop_transcription(run)
    _finish(run, Outcome.ENQUEUED, next_key="")
    run.save()  # before the queue replaces the call's flow state
    queue_enter(call=run.call, queue=node.queue, priority=int(node.settings.get("priority") or 0))


# Forward
def _forward_enter(run: Run, node: IvrNode, notice: dict | None) -> None:
    _prompt_then(run, node, _forward_done)


def _forward_done(run: Run, node: IvrNode) -> None:
    _stop_transcription(run)
    target_state = {"flow": FORWARD_FLOW, "parent": run.call.pk, "step": run.step}
    body = {
        "to": node.settings["to"],
        # Whoever answers sees who is calling; without "from" Telnyx shows the
        # number the caller dialled (our IVR line).
        "from": presented_caller_id(run.call.from_number, run.call.to_number),
        "timeout_secs": int(node.settings.get("timeout_secs") or 30),
        "target_leg_client_state": client_state_encode(target_state),
    }
    run.state["phase"] = "forwarding"
    run.send("transfer", body, "transfer")
    _finish(run, Outcome.FORWARDING, done=False)


@register_flow(FORWARD_FLOW)
def ivr_forward_flow(call: Call, event: WebhookEvent) -> None:
    """Webhooks of the leg a forward node dialled: a leg nobody answers sends the caller on."""
    context = event.client_state or call.flow_state
    parent = Call.objects.select_for_update(no_key=True).filter(pk=context.get("parent")).first()
    if parent is None:
        return
    if event.event_type == "call.initiated" and call.parent_id is None:
        call.parent = parent
        call.save(update_fields=["parent"])
        call_set_flow(call=call, flow=FORWARD_FLOW, state={"parent": parent.pk, "step": context.get("step")})
        return
    state = parent.flow_state or {}
    if parent.flow != FLOW or state.get("step") != context.get("step"):
        return
    if event.event_type == "call.answered" and parent.connected_at is None:
        # A person took the call (Telnyx bridges the transfer): the caller is
        # connected, even if their hang-up was processed before this event.
        call_set_connected(call=parent, at=event.occurred_at)
    if state.get("phase") != "forwarding":
        return
    run = Run.load(parent, event)
    if event.event_type == "call.answered":
        run.state["phase"] = "connected"
        _finish(run, Outcome.FORWARDED, done=False)
    elif event.event_type == "call.hangup" and not call.answered_at and parent.status != Call.Status.ENDED:
        node = run.current()
        target = node.settings.get("no_answer") if node else ""
        _finish(run, Outcome.NO_ANSWER, next_key=target or "")
        if target:
            enter(run, target)
        else:
            _fallback_or_hangup(run)
    else:
        return
    run.save()


# Voicemail
def _voicemail_enter(run: Run, node: IvrNode, notice: dict | None) -> None:
    _stop_transcription(run)
    box = voicemail_box_for(ivr=None if node.queue_id else run.flow, queue=node.queue)
    finish_key = node.settings.get("finish_key") or "#"
    prompt = node.prompt or tts(
        f"Please leave a message after the tone. Press {KEY_NAMES.get(finish_key, finish_key)} when you are finished."
    )
    run.state.update(box=box.pk, phase="vm_prompt")
    run.play(prompt, "prompt")


def _voicemail_record(run: Run) -> None:
    node = run.current()
    if node is None:
        _fallback_or_hangup(run)
        return
    body = {"format": "mp3", "channels": "single", "play_beep": True,
            "max_length": int(node.settings.get("max_length_secs") or 120),
            # Ends the message once the caller has said it and gone quiet, as
            # most callers do instead of pressing the finish key; the timer only
            # starts after speech, so a slow starter is not cut off.
            "timeout_secs": VOICEMAIL_SILENCE_SECS}
    run.state["phase"] = "recording"
    # "recording": "voicemail" tells apps.recordings what this recording is
    # for; "box" where the message goes.
    run.send("record_start", body, "record", recording="voicemail", box=run.state["box"])


def _voicemail_key(run: Run) -> None:
    node = run.current()
    if node is not None and run.event.payload.digit == (node.settings.get("finish_key") or "#"):
        run.send("record_stop", {}, "record-stop", recording="voicemail", box=run.state["box"])


def _voicemail_saved(run: Run) -> None:
    _finish(run, Outcome.RECORDED)
    run.state["phase"] = "goodbye"
    run.play(tts(GOODBYE), "goodbye")


def _goodbye_played(run: Run) -> None:
    _hangup(run)


# --- Commands Telnyx refused ------------------------------------------------------
# A step waits for the webhook of what it sent (speak.ended, gather.ended, the
# forwarded leg's answer...). If Telnyx refuses the command for good, that
# webhook never comes and the caller would hear silence until they hang up,
# so a refusal moves the call on instead. Transcription and the stop commands
# are left out: the keypad works without speech, and a stop is sent for a
# step the call is already leaving.
STALLING_ACTIONS = ("speak", "playback_start", "gather_using_speak", "gather_using_audio", "record_start", "transfer")


@on_command_failure(*STALLING_ACTIONS)
def ivr_command_failed(command: TelnyxCommand) -> None:
    """An IVR step's command failed for good: move the caller on rather than leave them in silence."""
    context = client_state_decode((command.body or {}).get("client_state"))
    if context.get("flow") != FLOW or not command.call_control_id:
        return
    if command.error_code == CALL_GONE_CODE:
        return  # the caller has gone (apps.calls ends the call): nobody is waiting
    call = call_locked(command.call_control_id)
    if call is None or call.flow != FLOW or call.status == Call.Status.ENDED:
        return
    run = Run.load(call, None)
    if context.get("step") != run.step:
        return  # sent for a step the call has already left
    call_log(call=call, kind="ivr.command_failed",
             data={"step": run.step, "action": command.action, "error": (command.error or "")[:300]})
    phase = run.state.get("phase")
    if phase in ("apology", "goodbye"):
        _hangup(run)  # the last words are lost; the call still ends
    elif phase == "forwarding" and command.action == "transfer":
        _forward_failed(run)
    else:
        _stalled(run)
    run.save()


def _forward_failed(run: Run) -> None:
    node = run.current()
    target = (node.settings.get("no_answer") or "") if node else ""
    if target:
        _finish(run, Outcome.FAILED, next_key=target)
        enter(run, target)  # as if nobody had answered
    else:
        _stalled(run)


def _stalled(run: Run) -> None:
    """The step cannot go on: the flow's fallback, once; if that fails too, an apology and a hang-up.

    ``failed`` in the state is what keeps this from looping: a fallback whose
    own prompt is refused is not entered again.
    """
    fallback = run.flow.fallback_key if run.flow else ""
    if fallback and fallback != run.state.get("node") and not run.state.get("failed"):
        run.state["failed"] = True
        _finish(run, Outcome.FAILED, next_key=fallback)
        enter(run, fallback)
        return
    run.state["failed"] = True
    _finish(run, Outcome.FAILED)
    _stop_transcription(run)
    # A step of its own, so no late webhook of the failed step can cut it short.
    run.state.update(step=run.step + 1, phase="apology")
    # In the default voice: the flow's own may be what Telnyx refused.
    call_speak(call=run.call, text=APOLOGY, client_state=run.client_state(), key=run.key("apology"))


ENTER = {
    Kind.MENU: _menu_enter,
    Kind.MESSAGE: _message_enter,
    Kind.QUEUE: _queue_enter,
    Kind.FORWARD: _forward_enter,
    Kind.VOICEMAIL: _voicemail_enter,
    Kind.HANGUP: _hangup_enter,
    Kind.HOURS: _hours_enter,
}
AFTER_PROMPT = {
    Kind.MESSAGE: _message_done,
    Kind.HANGUP: _hangup_done,
    Kind.QUEUE: _queue_done,
    Kind.FORWARD: _forward_done,
}
# phase -> event type -> what to do. Anything not listed is ignored.
PHASES = {
    "answering": {"call.answered": _answered},
    "notice": {event: _menu_notice_played for event in MEDIA_ENDED},
    "gather": {"call.gather.ended": _menu_gathered, "call.transcription": _menu_heard},
    "playing": {event: _after_prompt for event in MEDIA_ENDED},
    "vm_prompt": {event: _voicemail_record for event in MEDIA_ENDED},
    "recording": {"call.dtmf.received": _voicemail_key, "call.recording.saved": _voicemail_saved},
    "goodbye": {event: _goodbye_played for event in MEDIA_ENDED},
    "apology": {event: _goodbye_played for event in MEDIA_ENDED},
}
