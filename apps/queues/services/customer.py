"""The caller's side of a queue: waiting (hold audio, announcements), leaving, overflowing, being called back.

Every command sent to a queued caller carries ``caller_state(entry,
phase=...)``; ``call.flow_state["phase"]`` says what the caller is hearing
now, so a late "speak ended" of an older phase moves nothing.

Telnyx plays a leg's speak and playback commands one after the other: one
sent while the hold audio loops would wait behind a loop that never ends.
So everything the caller must hear now (hold audio, announcements, the
voicemail prompt, the call-back goodbye) is sent with ``stop: "all"``,
which cuts what plays and drops what waits. Only a ``call.speak.ended``
ends a spoken phase: the ``call.playback.ended`` of the hold audio it cut
does not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.calls.models import Call
from apps.calls.services import call_command, call_hangup, call_log, call_publish, call_set_flow, call_speak
from apps.queues.models import Offer, Queue, QueueEntry, Transfer
from apps.queues.realtime import offer_publish, queue_publish_on_commit
from apps.queues.selectors import entry_position, estimated_wait_secs
from apps.queues.services.dispatch import dispatch_wake
from apps.queues.services.entries import caller_state, queue_enter, queue_entry_enqueued, queue_entry_left
from apps.recordings.voicemail.services import is_dialable, voicemail_box_for
from apps.telnyx.client_state import client_state_encode
from apps.telnyx.events import WebhookEvent
from apps.telnyx.services import command_create

CALLBACK_FLOW = "queue_callback"
VOICEMAIL_PROMPT = ("Sorry, all of our agents are still busy. Please leave a message after the tone, "
                    "and press the pound key when you are finished.")
VOICEMAIL_GOODBYE = "Thank you. Your message has been saved. Goodbye."
CALLBACK_GOODBYE = ("All of our agents are still busy. We will call you back at this number when it is your turn: "
                    "you keep your place in line. Goodbye.")
VOICEMAIL_MAX_SECS = 120
# A call-back request is tried this many times; a missed one goes back in line, tried again after a pause.
CALLBACK_ATTEMPTS = 3
CALLBACK_RETRY_AFTER = timedelta(minutes=2)
CALLBACK_FAILED = "callback failed"
SPOKEN = "call.speak.ended"
# Whatever the caller was hearing (hold audio, an earlier message) is cut, and nothing queued plays after it.
NOW = "all"


def customer_event(call: Call, event: WebhookEvent) -> None:
    """Every webhook of a caller handed to the ``queue`` flow (the call is locked)."""
    kind = event.event_type
    if kind == "call.hangup":
        customer_gone(call=call, at=event.occurred_at)
        return
    entry_pk = event.client_state.get("entry") or call.flow_state.get("entry")
    entry = (
        QueueEntry.objects.select_for_update(no_key=True, of=("self",)).select_related("queue")
        .filter(pk=entry_pk, call=call).first()
    )
    if entry is None:
        return
    if kind == "call.enqueued":
        _enqueued(call, entry, event)
    elif kind == "call.dequeued":
        _dequeued(call, entry, event)
    else:
        _phase_event(call, entry, event)


def _enqueued(call: Call, entry: QueueEntry, event: WebhookEvent) -> None:
    first = queue_entry_enqueued(entry=entry, at=event.occurred_at, position=event.payload.current_position)
    if not first or entry.status != QueueEntry.Status.WAITING:
        return
    entry_hold_start(entry=entry, call=call)
    queue_publish_on_commit(entry.queue_id)
    dispatch_wake()


def _dequeued(call: Call, entry: QueueEntry, event: WebhookEvent) -> None:
    if entry.dequeued_at is None:
        entry.dequeued_at = event.occurred_at
        entry.save(update_fields=["dequeued_at"])
    reason = event.payload.reason or "dequeued"
    if entry.status == QueueEntry.Status.LEFT:
        return  # we took it out (answered, overflowed) or it hung up: already accounted for
    if reason == "hangup":
        customer_gone(call=call, at=event.occurred_at)  # call.hangup follows; the first one says it
        return
    if reason == "timeout":
        if entry.status == QueueEntry.Status.OFFERED:
            # An agent's phone is ringing: let it; if nobody answers, the overflow runs then.
            entry.overflow_due = True
            entry.save(update_fields=["overflow_due"])
        else:
            entry_overflow(entry=entry, call=call)
        return
    # Taken out by someone else (a leave_queue we did not send, a bridge elsewhere).
    queue_entry_left(entry=entry, at=event.occurred_at, reason=reason)
    _cancel_offers(entry, "caller left the queue")


def customer_gone(*, call: Call, at: datetime) -> None:
    """The caller hung up: leave the line (an abandon), stop agents' phones, end their side of the call."""
    # A call-back request of this caller stays in line: it waits for no live call.
    for entry in QueueEntry.objects.select_for_update(no_key=True, of=("self",)).filter(
        call=call, kind=QueueEntry.Kind.CALL, status__in=QueueEntry.LIVE
    ):
        queue_entry_left(entry=entry, at=at, reason="hangup")
        _cancel_offers(entry, "caller hung up")
        if not call.connected_at and not call.connect_failure:
            call.connect_failure = Call.Outcome.ABANDONED
            call.save(update_fields=["connect_failure", "updated_at"])
    for offer in Offer.objects.select_for_update(no_key=True, of=("self",)).select_related("agent_call").filter(
        customer_call=call, status=Offer.Status.CONNECTED
    ):
        from apps.queues.services.offers import offer_hangup_leg

        offer_hangup_leg(offer, "caller-gone")
    for transfer in Transfer.objects.filter(offer__customer_call=call).exclude(
        status__in=[Transfer.Status.CANCELLED, Transfer.Status.FAILED]
    ).select_related("consult_call"):
        leg = transfer.consult_call
        if leg is not None and leg.status != Call.Status.ENDED:
            call_hangup(call=leg, key=f"transfer:{transfer.pk}:caller-gone")


def _cancel_offers(entry: QueueEntry, reason: str) -> None:
    from apps.queues.services.offers import offer_cancel

    for offer in entry.offers.select_for_update(no_key=True, of=("self",)).select_related("agent_call").filter(
        status=Offer.Status.RINGING
    ):
        offer_cancel(offer, reason)


# --- Hold audio and announcements ---------------------------------------------------------
def entry_hold_start(*, entry: QueueEntry, call: Call, again: int = 0) -> None:
    """What a waiting caller hears: the queue's audio on a loop, or its hold message."""
    queue = entry.queue
    key = f"queue:{entry.pk}:hold:{again}"
    state = caller_state(entry, phase="hold")
    if queue.hold_audio_url:
        # A caller coming from another queue may still hear its hold audio: this replaces it.
        call_command(call=call, action="playback_start",
                     body={"audio_url": queue.hold_audio_url, "loop": "infinity", "stop": NOW},
                     client_state=state, key=key)
    elif queue.hold_text and not again:
        call_speak(call=call, text=queue.hold_text, client_state=state, key=key, stop=NOW)
    _set_phase(call, entry, "hold")


def entry_announce(*, entry: QueueEntry, call: Call) -> bool:
    """Tell a waiting caller their place in line and about how long they may wait."""
    if entry.status != QueueEntry.Status.WAITING or call.status != Call.Status.ANSWERED:
        return False
    if call.flow_state.get("phase") == "announce" and call.flow_state.get("entry") == entry.pk:
        return False  # the last one is still being spoken: the next tick announces after it
    position = entry_position(entry)
    minutes = max(1, round(estimated_wait_secs(entry) / 60))
    text = (f"You are number {position} in line. Your estimated wait is about {minutes} "
            f"minute{'s' if minutes != 1 else ''}. Thank you for holding.")
    entry.announcements += 1
    entry.next_announcement_at = timezone.now() + timedelta(seconds=entry.queue.announce_every_secs)
    entry.save(update_fields=["announcements", "next_announcement_at"])
    call_speak(call=call, text=text, client_state=caller_state(entry, phase="announce"),
               key=f"queue:{entry.pk}:announce:{entry.announcements}", stop=NOW)
    _set_phase(call, entry, "announce")
    return True


def announcements_due(*, now: datetime | None = None) -> int:
    """Announce to every waiting caller whose turn for an announcement has come (the tick)."""
    now = now or timezone.now()
    due = QueueEntry.objects.filter(status=QueueEntry.Status.WAITING, next_announcement_at__lte=now).values_list(
        "pk", "call_id"
    )
    count = 0
    for entry_pk, call_pk in due[:500]:
        with transaction.atomic():
            call = Call.objects.select_for_update(no_key=True, skip_locked=True).filter(pk=call_pk).first()
            entry = QueueEntry.objects.select_for_update(no_key=True, skip_locked=True, of=("self",)).select_related(
                "queue").filter(pk=entry_pk, next_announcement_at__lte=now).first()
            if call is not None and entry is not None and entry.queue.announce_every_secs:
                count += entry_announce(entry=entry, call=call)
    return count


def _set_phase(call: Call, entry: QueueEntry, phase: str, **extra) -> None:
    call.flow_state = {"queue": entry.queue_id, "entry": entry.pk, "phase": phase, **extra}
    call.save(update_fields=["flow_state", "updated_at"])


# --- Overflow ---------------------------------------------------------------------------------
def entry_overflow(*, entry: QueueEntry, call: Call) -> None:
    """The caller waited the queue's maximum: another queue, a call-back keeping their place, or voicemail."""
    queue = entry.queue
    action = queue.overflow_action
    call_log(call=call, kind="queue.overflow", data={"queue": queue.pk, "entry": entry.pk, "action": action})
    if action == Queue.Overflow.QUEUE and queue.overflow_queue_id and queue.overflow_queue_id != queue.pk:
        queue_entry_left(entry=entry, reason="overflow")
        queue_enter(call=call, queue=queue.overflow_queue, priority=entry.priority, place_at=entry.place_at)
        return
    if action == Queue.Overflow.CALLBACK and is_dialable(call.from_number):
        callback_request(entry=entry, call=call)
        return
    _voicemail_start(entry, call)


def callback_request(*, entry: QueueEntry, call: Call) -> QueueEntry:
    """The caller hangs up but keeps their place: a call-back entry waits in the line where they were."""
    queue_entry_left(entry=entry, reason="callback")
    callback = _callback_in_line(entry, number=call.from_number)
    _no_agent(call)
    call_log(call=call, kind="queue.callback", data={"entry": callback.pk, "number": call.from_number})
    call_speak(call=call, text=CALLBACK_GOODBYE, client_state=caller_state(entry, phase="callback_bye"),
               key=f"queue:{entry.pk}:callback-bye", stop=NOW)
    _set_phase(call, entry, "callback_bye")
    queue_publish_on_commit(entry.queue_id)
    dispatch_wake()
    return callback


def _voicemail_start(entry: QueueEntry, call: Call) -> None:
    queue_entry_left(entry=entry, reason="voicemail")
    _no_agent(call)
    box = voicemail_box_for(queue=entry.queue)
    call_speak(call=call, text=VOICEMAIL_PROMPT, client_state=caller_state(entry, phase="vm_prompt"),
               key=f"queue:{entry.pk}:vm-prompt", stop=NOW)
    _set_phase(call, entry, "vm_prompt", box=box.pk)


def _no_agent(call: Call) -> None:
    """The call log: this caller never reached an agent."""
    if not call.connected_at and not call.connect_failure:
        call.connect_failure = Call.Outcome.NO_ANSWER
        call.version += 1
        call.save(update_fields=["connect_failure", "version", "updated_at"])
        call_publish(call)


def _phase_event(call: Call, entry: QueueEntry, event: WebhookEvent) -> None:
    """Media, keys and recordings of a caller, by the phase they are in."""
    phase = call.flow_state.get("phase")
    if event.client_state.get("phase") and event.client_state.get("phase") != phase:
        return  # a late event of something the caller no longer hears
    kind = event.event_type
    recording = {"recording": "voicemail", "box": call.flow_state.get("box")}
    if phase == "announce" and kind == SPOKEN:
        if entry.status in QueueEntry.LIVE:  # still in line (an agent's phone may be ringing for them)
            entry_hold_start(entry=entry, call=call, again=entry.announcements)
    elif phase == "vm_prompt" and kind == SPOKEN:
        call_command(call=call, action="record_start",
                     body={"format": "mp3", "channels": "single", "play_beep": True, "max_length": VOICEMAIL_MAX_SECS},
                     client_state=caller_state(entry, phase="vm_recording", **recording),
                     key=f"queue:{entry.pk}:vm-record")
        _set_phase(call, entry, "vm_recording", box=recording["box"])
    elif phase == "vm_recording" and kind == "call.dtmf.received" and event.payload.digit == "#":
        call_command(call=call, action="record_stop", body={},
                     client_state=caller_state(entry, phase="vm_recording", **recording),
                     key=f"queue:{entry.pk}:vm-stop")
    elif phase == "vm_recording" and kind == "call.recording.saved":
        call_speak(call=call, text=VOICEMAIL_GOODBYE, client_state=caller_state(entry, phase="vm_goodbye"),
                   key=f"queue:{entry.pk}:vm-goodbye")
        _set_phase(call, entry, "vm_goodbye")
    elif phase in ("vm_goodbye", "callback_bye") and kind == SPOKEN:
        call_hangup(call=call, key=f"queue:{entry.pk}:goodbye")


# --- The call-back leg ---------------------------------------------------------------------------
def callback_leg_event(call: Call, event: WebhookEvent) -> None:
    """Webhooks of the leg dialled to call a waiting caller back (the agent is already on the line)."""
    from apps.queues.services.offers import offer_hangup_leg, offer_lock

    locked = offer_lock(event.client_state.get("offer") or call.flow_state.get("offer"))
    if locked is None:
        return
    _, entry, offer = locked
    kind = event.event_type
    if offer.customer_call_id is None:
        call.parent = entry.call
        call.save(update_fields=["parent", "updated_at"])
        call_set_flow(call=call, flow=CALLBACK_FLOW, state={"offer": offer.pk})
        offer.customer_call = call
        offer.save(update_fields=["customer_call"])
        offer_publish(offer)
    if kind == "call.answered" and offer.status == Offer.Status.CONNECTED:
        call.connected_at = event.occurred_at
        call.save(update_fields=["connected_at", "updated_at"])
        command_create(
            action="conference_join", conference_id=offer.conference_name,
            body={"call_control_id": call.call_control_id,
                  "client_state": client_state_encode({"flow": CALLBACK_FLOW, "offer": offer.pk})},
            key=f"offer:{offer.pk}:callback-join",
        )
        call_log(call=entry.call, kind="queue.callback.connected", data={"offer": offer.pk})
    elif kind == "call.answered" and offer.status != Offer.Status.CONNECTED:
        call_hangup(call=call, key="callback:agent-gone")
    elif kind == "call.hangup":
        if call.connected_at is None:  # never put through to the agent: not answered, or the agent was gone
            if offer.status == Offer.Status.CONNECTED:
                offer.end_reason = "callback not answered"
                offer.save(update_fields=["end_reason"])
            callback_missed(entry=entry, offer=offer)
        if offer.status == Offer.Status.CONNECTED:
            offer_hangup_leg(offer, "callback-ended")


def _callback_in_line(entry: QueueEntry, *, number: str, **fields) -> QueueEntry:
    """A call-back request waiting where ``entry`` was in line (its place and priority)."""
    return QueueEntry.objects.create(
        call=entry.call, queue=entry.queue, kind=QueueEntry.Kind.CALLBACK, priority=entry.priority,
        place_at=entry.place_at, callback_number=number, entered_at=timezone.now(), **fields,
    )


def callback_missed(*, entry: QueueEntry, offer: Offer) -> QueueEntry | None:
    """The call-back did not reach the caller: the request goes back in line at its place, or, after
    ``CALLBACK_ATTEMPTS`` tries, leaves it as failed (the queue's page lists it for supervisors).

    ``entry`` (locked) is the request the agent took. Returns the entry that waits again, if any.
    """
    if entry.kind != QueueEntry.Kind.CALLBACK or entry.leave_reason != "callback":
        return None  # dealt with already: the dial failed and its leg's hang-up came too, or a replayed webhook
    attempts = entry.callback_attempts + 1
    data = {"offer": offer.pk, "entry": entry.pk, "attempt": attempts, "number": entry.callback_number}
    call_log(call=entry.call, kind="queue.callback.no_answer", data=data)
    entry.callback_attempts = attempts
    if attempts >= CALLBACK_ATTEMPTS:
        entry.leave_reason = CALLBACK_FAILED
        entry.save(update_fields=["callback_attempts", "leave_reason"])
        call_log(call=entry.call, kind="queue.callback.failed", data=data)
        queue_publish_on_commit(entry.queue_id)
        return None
    entry.leave_reason = "callback missed"
    entry.save(update_fields=["callback_attempts", "leave_reason"])
    again = _callback_in_line(entry, number=entry.callback_number, callback_attempts=attempts,
                              not_before=timezone.now() + CALLBACK_RETRY_AFTER)
    call_log(call=entry.call, kind="queue.callback.requeued",
             data={"entry": again.pk, "attempt": attempts + 1, "not_before": again.not_before.isoformat()})
    queue_publish_on_commit(entry.queue_id)
    return again

