"""An agent's phone ringing for a caller, and what happens when it is answered, refused or hung up.

The agent's leg runs the ``agent`` flow (its ``client_state`` names the
offer). When it is answered the caller leaves Telnyx's queue and caller and
agent meet in a conference made for this offer: ``leave_queue`` ->
``conference_create`` (caller) -> ``conference_join`` (agent), each sent
only once the previous one succeeded. A supervisor can later join the same
conference with a ``supervisor_role``.

Locks, always in this order so no two handlers deadlock: the leg whose
webhook is handled (the flows hold it), the customer's leg, the queue entry,
the offer, the agent. A handler of the customer's leg never locks an agent's
leg; it reads it and sends commands.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.agents.models import Agent
from apps.agents.services import agent_set_status
from apps.calls.models import Call
from apps.calls.services import call_command, call_log, call_set_connected, call_set_flow
from apps.core.exceptions import ApplicationError
from apps.queues.models import Disposition, Offer, QueueEntry, Transfer
from apps.queues.realtime import offer_publish, queue_publish_on_commit
from apps.queues.services.dispatch import dispatch_wake
from apps.queues.services.entries import caller_state, queue_entry_left
from apps.telnyx.client import CALL_GONE_CODE
from apps.telnyx.client_state import client_state_encode
from apps.telnyx.events import WebhookEvent
from apps.telnyx.models import TelnyxCommand
from apps.telnyx.services import command_create, on_command_failure, on_command_success

logger = logging.getLogger(__name__)

AGENT_FLOW = "agent"
Status = Offer.Status
# How an agent's unanswered leg ended -> what became of the offer, and why the agent is away ("" = not away).
_UNANSWERED = {
    "timeout": (Status.MISSED, "Missed call"),
    "no_answer": (Status.MISSED, "Missed call"),
    "call_rejected": (Status.DECLINED, ""),
    "user_busy": (Status.FAILED, "Phone busy"),
}
_KEY = re.compile(r"offer:(\d+):([\w-]+)$")


# --- Locking --------------------------------------------------------------------------
def offer_lock(offer_id) -> tuple[Call | None, QueueEntry, Offer] | None:
    """The customer's leg, the entry and the offer, locked in the house order."""
    found = (
        Offer.objects.filter(pk=offer_id)
        .values_list("entry_id", "entry__call_id", "customer_call_id")
        .first()
    )
    if found is None:
        return None
    entry_id, entry_call_id, customer_id = found
    customer = Call.objects.select_for_update(no_key=True).filter(pk=customer_id or entry_call_id).first()
    entry = QueueEntry.objects.select_for_update(no_key=True, of=("self",)).select_related("queue", "call").get(
        pk=entry_id
    )
    offer = (
        Offer.objects.select_for_update(no_key=True, of=("self",))
        .select_related("agent__user", "agent_call", "customer_call")
        .get(pk=offer_id)
    )
    return customer, entry, offer


def offer_end(offer: Offer, status: str, reason: str = "") -> None:
    offer.status, offer.end_reason, offer.ended_at = status, reason[:40], timezone.now()
    offer.save(update_fields=["status", "end_reason", "ended_at"])
    offer_publish(offer)


def offer_hangup_leg(offer: Offer, why: str) -> None:
    """Hang up the agent's leg of ``offer`` (or, once its id is known, as soon as it is)."""
    ccid = offer.agent_call.call_control_id if offer.agent_call else offer.agent_call_control_id
    if not ccid or (offer.agent_call and offer.agent_call.status == Call.Status.ENDED):
        return  # not placed yet: its first webhook or the dial's answer hangs it up
    command_create(action="hangup", body={}, call_control_id=ccid, key=f"offer:{offer.pk}:hangup:{why}")


def offer_cancel(offer: Offer, reason: str) -> None:
    """Stop a ringing offer (the caller left, another agent answered)."""
    if offer.status != Status.RINGING:
        return
    offer_end(offer, Status.CANCELLED, reason)
    offer_hangup_leg(offer, "cancel")


# --- The agent's leg ---------------------------------------------------------------------
def agent_leg_event(call: Call, event: WebhookEvent) -> None:
    """Every webhook of an agent's leg (the leg is locked by the calls app)."""
    kind = event.event_type
    if kind not in ("call.initiated", "call.answered", "call.hangup"):
        return
    locked = offer_lock(event.client_state.get("offer") or call.flow_state.get("offer"))
    if locked is None:
        return
    customer, entry, offer = locked
    if offer.agent_call_id is None:
        _adopt(call, entry, offer)
    if kind == "call.initiated":
        if not offer.live:
            offer_hangup_leg(offer, "cancel")  # refused or cancelled before we knew the leg
    elif kind == "call.answered":
        _answered(call, customer, entry, offer, event.occurred_at)
    else:
        _leg_ended(customer, entry, offer, event.payload.hangup_cause or "")


def _adopt(call: Call, entry: QueueEntry, offer: Offer) -> None:
    call.parent = entry.call
    call.destination = f"Agent: {offer.agent.name}"[:255]
    call.save(update_fields=["parent", "destination", "updated_at"])
    call_set_flow(call=call, flow=AGENT_FLOW, state={"offer": offer.pk})
    offer.agent_call = call
    offer.agent_call_control_id = call.call_control_id
    offer.save(update_fields=["agent_call", "agent_call_control_id"])


def _answered(call: Call, customer: Call | None, entry: QueueEntry, offer: Offer, at: datetime) -> None:
    if offer.status != Status.RINGING:
        offer_hangup_leg(offer, "late-answer")
        return
    if offer.kind == Offer.Kind.CONSULT:
        from apps.queues.services.transfers import transfer_consult_answered

        transfer_consult_answered(offer=offer, at=at)
        return
    if entry.status != QueueEntry.Status.OFFERED or (
        entry.kind == QueueEntry.Kind.CALL and (customer is None or customer.status == Call.Status.ENDED)
    ):
        offer_end(offer, Status.CANCELLED, "caller gone")
        offer_hangup_leg(offer, "caller-gone")
        return
    _take(entry, offer, at)
    if entry.kind == QueueEntry.Kind.CALLBACK:
        _call_back(entry, offer)
    else:
        _connect(customer, entry, offer, at)


def _take(entry: QueueEntry, offer: Offer, at: datetime) -> None:
    """The agent has the caller: the entry leaves the line, other phones stop ringing."""
    queue_entry_left(entry=entry, at=at, reason="answered" if entry.kind == QueueEntry.Kind.CALL else "callback")
    entry.answered_at, entry.agent = at, offer.agent
    entry.save(update_fields=["answered_at", "agent"])
    for other in entry.offers.filter(status=Status.RINGING).exclude(pk=offer.pk).select_related("agent_call"):
        offer_cancel(other, "answered elsewhere")
    offer.status, offer.answered_at = Status.CONNECTED, at
    offer.conference_name = f"offer-{offer.pk}"
    offer.save(update_fields=["status", "answered_at", "conference_name"])
    if not agent_set_status(agent=offer.agent, status=Agent.Status.ON_CALL, expected=Agent.Status.RINGING):
        logger.warning("agent %s answered offer %s but was not ringing any more", offer.agent_id, offer.pk)
    offer_publish(offer)


def _connect(customer: Call, entry: QueueEntry, offer: Offer, at: datetime) -> None:
    """Caller out of Telnyx's queue, into a new conference, then the agent joins it."""
    if customer.connected_at is None:
        call_set_connected(call=customer, at=at)
    state = caller_state(entry)
    if entry.queue.hold_audio_url:
        call_command(call=customer, action="playback_stop", body={}, key=f"offer:{offer.pk}:stop-hold")
    left = None
    if entry.dequeued_at is None:
        left = call_command(call=customer, action="leave_queue", body={}, client_state=state,
                            key=f"offer:{offer.pk}:leave-queue")
    _conference(offer, customer, depends_on=left)
    call_log(call=customer, kind="queue.connected",
             data={"offer": offer.pk, "agent": offer.agent.name, "conference": offer.conference_name})


def _conference(offer: Offer, customer: Call, *, depends_on: TelnyxCommand | None, again: bool = False) -> None:
    suffix = "-again" if again else ""
    created = command_create(
        action="conference_create",
        body={
            "call_control_id": customer.call_control_id,
            "name": offer.conference_name,
            "beep_enabled": "never",
            "client_state": client_state_encode(caller_state(offer.entry)),
        },
        key=f"offer:{offer.pk}:conference{suffix}",
        depends_on=depends_on,
    )
    command_create(
        action="conference_join",
        conference_id=offer.conference_name,  # Telnyx takes the name as well as the id
        body={"call_control_id": offer.agent_call_control_id,
              "client_state": client_state_encode({"flow": AGENT_FLOW, "offer": offer.pk})},
        key=_join_key(offer, again),
        depends_on=created,
    )


def _join_key(offer: Offer, again: bool = False) -> str:
    return f"offer:{offer.pk}:join{'-again' if again else ''}"


def _call_back(entry: QueueEntry, offer: Offer) -> None:
    """A call-back: the agent is on the line; open the conference on their leg and ring the caller."""
    from apps.queues.services.customer import CALLBACK_FLOW

    created = command_create(
        action="conference_create",
        body={"call_control_id": offer.agent_call_control_id, "name": offer.conference_name, "beep_enabled": "never",
              "client_state": client_state_encode({"flow": AGENT_FLOW, "offer": offer.pk})},
        key=f"offer:{offer.pk}:conference",
    )
    queue = entry.queue
    command_create(
        action="dial",
        body={
            "to": entry.callback_number,
            # The caller recognises the number they called.
            "from": queue.callback_number or entry.call.to_number,
            "connection_id": entry.call.connection_id or settings.TELNYX_CONNECTION_ID,
            "timeout_secs": 30,
            "client_state": client_state_encode({"flow": CALLBACK_FLOW, "offer": offer.pk}),
        },
        key=f"offer:{offer.pk}:callback-dial",
        depends_on=created,
    )
    call_log(call=entry.call, kind="queue.callback.dial", data={"offer": offer.pk, "agent": offer.agent.name})


def _leg_ended(customer: Call | None, entry: QueueEntry, offer: Offer, cause: str) -> None:
    if offer.status == Status.RINGING:
        status, away = _UNANSWERED.get(cause, (Status.FAILED, "Phone unreachable"))
        offer_end(offer, status, cause or "ended")
        if away:
            agent_set_status(agent=offer.agent, status=Agent.Status.AWAY, reason=away, expected=Agent.Status.RINGING)
        else:
            agent_set_status(agent=offer.agent, status=Agent.Status.AVAILABLE, expected=Agent.Status.RINGING)
        offer_failed(customer, entry, offer)
    elif offer.status in (Status.DECLINED, Status.CANCELLED, Status.MISSED, Status.FAILED):
        # We ended it (declined, cancelled, given up on): the phone is free again.
        agent_set_status(agent=offer.agent, status=Agent.Status.AVAILABLE, expected=Agent.Status.RINGING)
    elif offer.status == Status.CONNECTED and _caller_not_met_yet(customer, entry, offer):
        # The agent hung up between answering and joining the caller. The
        # join still under way fails (or lands in an empty conference); either
        # way offer_connect_settled then puts the caller back in line.
        _agent_dropped(offer)
    elif offer.status == Status.CONNECTED:
        offer_end(offer, Status.ENDED, offer.end_reason or ("hung up" if cause == "normal_clearing" else cause or "ended"))
        # A call-back nobody answered had no talk to wrap up (the request waits in line again):
        # the agent passes through wrap-up at once, as with a queue that has none.
        wrap_up_start(offer, seconds=0 if _callback_unreached(entry, offer) else None)
        release_customer(offer, customer)
    elif offer.status == Status.ENDED:
        wrap_up_start(offer)  # ended by a transfer earlier; the leg is down now


def _callback_unreached(entry: QueueEntry, offer: Offer) -> bool:
    """A call-back whose leg to the caller was never put through to the agent (or never placed)."""
    if entry.kind != QueueEntry.Kind.CALLBACK:
        return False
    leg = offer.customer_call
    return leg is None or leg.connected_at is None


# --- An agent who answers and hangs up before meeting the caller ------------------------
DROPPED = "dropped before connecting"


def _caller_not_met_yet(customer: Call | None, entry: QueueEntry, offer: Offer) -> bool:
    """A queued caller still alive whose agent has not joined them (the join did not succeed)."""
    if offer.kind != Offer.Kind.QUEUE or entry.kind != QueueEntry.Kind.CALL:
        return False
    if customer is None or customer.status == Call.Status.ENDED:
        return False
    joins = [_join_key(offer), _join_key(offer, again=True)]
    return not TelnyxCommand.objects.filter(key__in=joins, status=TelnyxCommand.Status.SUCCEEDED).exists()


def _agent_dropped(offer: Offer) -> None:
    """Nobody talked: no wrap-up; the agent is set away so the caller does not ring them again at once."""
    offer_end(offer, Status.FAILED, DROPPED)
    agent_set_status(agent=offer.agent, status=Agent.Status.AWAY, reason="Dropped a call",
                     expected=Agent.Status.ON_CALL)


def _requeue(customer: Call | None, entry: QueueEntry, offer: Offer, *, in_conference: bool) -> None:
    """Put a caller whose agent dropped back in the same queue, keeping their place in line."""
    from apps.queues.services.entries import queue_enter
    from apps.queues.services.transfers import leave_conference

    if customer is None or customer.status == Call.Status.ENDED or entry.leave_reason == "agent dropped":
        return  # gone, or already back in line (each step of connecting that ends calls this)
    entry.leave_reason, entry.answered_at, entry.agent = "agent dropped", None, None
    entry.save(update_fields=["leave_reason", "answered_at", "agent"])
    call_set_connected(call=customer, at=None)  # they did not get to talk to anyone
    left = leave_conference(offer, customer, f"offer:{offer.pk}:dropped-leave") if in_conference else None
    queue_enter(call=customer, queue=entry.queue, priority=entry.priority, place_at=entry.place_at, depends_on=left)
    call_log(call=customer, kind="queue.requeued", data={"offer": offer.pk, "agent": offer.agent.name})


@on_command_success("conference_join")
def offer_connect_settled(command: TelnyxCommand) -> None:
    """The agent's join went through after they had hung up: the caller waits alone in the conference."""
    found = _offer_of(command)
    if found is None or not found[1].startswith("join"):
        return
    locked = offer_lock(found[0])
    if locked is not None and locked[2].end_reason == DROPPED:
        _requeue(*locked, in_conference=True)


def offer_failed(customer: Call | None, entry: QueueEntry, offer: Offer) -> None:
    """An offer ended unanswered: the caller waits for the next agent (or overflows)."""
    if offer.kind == Offer.Kind.CONSULT:
        from apps.queues.services.transfers import transfer_consult_failed

        transfer_consult_failed(offer=offer)
        return
    if entry.status != QueueEntry.Status.OFFERED or entry.offers.filter(status__in=Offer.LIVE).exists():
        return  # answered by someone, or other phones still ring (ring all)
    if entry.kind == QueueEntry.Kind.CALL and (customer is None or customer.status == Call.Status.ENDED):
        queue_entry_left(entry=entry, reason="hangup")
        return
    # A caller meant for one agent (a transfer, a number routed to them) who did not answer goes to the whole queue.
    entry.target_agent, entry.target_until = None, None
    if entry.overflow_due:
        from apps.queues.services.customer import entry_overflow

        entry.save(update_fields=["target_agent", "target_until"])
        entry_overflow(entry=entry, call=customer)
        return
    entry.status = QueueEntry.Status.WAITING
    entry.save(update_fields=["status", "target_agent", "target_until"])
    queue_publish_on_commit(entry.queue_id)
    dispatch_wake()


def release_customer(offer: Offer, customer: Call | None) -> None:
    """The agent left a call that was not handed on: the caller (and anyone consulted) is hung up too."""
    from apps.queues.services.transfers import transfer_abandon, transfer_hand_over

    if offer.end_reason == "transferred":
        return
    alive = customer is not None and customer.status != Call.Status.ENDED
    transfers = offer.transfers.select_for_update(no_key=True, of=("self",)).filter(status__in=Transfer.LIVE)
    for transfer in transfers.select_related("consult_call", "consult_offer__agent_call", "offer__entry__queue"):
        if transfer.status == Transfer.Status.CONSULTING and alive:
            transfer_hand_over(transfer=transfer, customer=customer)  # hanging up mid-consult completes it
            return
        transfer_abandon(transfer=transfer)
    if alive:
        call_command(call=customer, action="hangup", body={}, key=f"offer:{offer.pk}:hangup-customer")


# --- Wrap-up -----------------------------------------------------------------------------
def wrap_up_start(offer: Offer, *, seconds: int | None = None) -> None:
    """The agent's leg is down: wrap-up for ``seconds``, by default the queue's limit
    (none: straight back to available)."""
    agent = offer.agent
    if not agent_set_status(agent=agent, status=Agent.Status.WRAP_UP, expected=Agent.Status.ON_CALL):
        return
    if seconds is None:
        seconds = offer.entry.queue.wrap_up_secs
    if seconds == 0:
        agent_set_status(agent=agent, status=Agent.Status.AVAILABLE, expected=Agent.Status.WRAP_UP)
        return
    from apps.agents.tasks import agent_wrap_up_end_task

    agent_id = agent.pk
    transaction.on_commit(lambda: agent_wrap_up_end_task.apply_async((agent_id,), countdown=seconds))


def agent_wrap_up_end(*, agent_id: int) -> bool:
    """End an agent's wrap-up whose time is up (early or repeated calls change nothing)."""
    with transaction.atomic():
        agent = Agent.objects.select_for_update(no_key=True).filter(pk=agent_id).first()
        if agent is None or agent.status != Agent.Status.WRAP_UP:
            return False
        last = Offer.objects.filter(agent=agent, answered_at__isnull=False).select_related("entry__queue").first()
        limit = last.entry.queue.wrap_up_secs if last else 0
        if (timezone.now() - agent.status_changed_at).total_seconds() < limit:
            return False
        return agent_set_status(agent=agent, status=Agent.Status.AVAILABLE, reason="", expected=Agent.Status.WRAP_UP)


@transaction.atomic
def offer_wrap_up(*, offer: Offer, user, disposition: Disposition | None, notes: str = "") -> Offer:
    """The agent records how the call went; if they are wrapping it up, they are available again."""
    offer = Offer.objects.select_for_update(no_key=True).select_related("agent__user", "entry__queue").get(pk=offer.pk)
    _own(offer, user)
    if offer.answered_at is None or offer.status in Offer.LIVE:
        raise ApplicationError("Wrap up a call once it has ended.")
    if disposition is not None and not disposition.active:
        raise ApplicationError(f"{disposition} is no longer offered.", {"field": "disposition"})
    offer.disposition, offer.notes, offer.wrapped_at = disposition, notes.strip(), timezone.now()
    offer.save(update_fields=["disposition", "notes", "wrapped_at"])
    if offer.entry.call_id:
        call_log(call=offer.entry.call, kind="wrap_up", actor=user, source="user",
                 data={"offer": offer.pk, "disposition": disposition.name if disposition else "", "notes": offer.notes})
    agent = offer.agent
    if agent.status == Agent.Status.WRAP_UP and _latest_answered(agent) == offer.pk:
        agent_set_status(agent=agent, status=Agent.Status.AVAILABLE, actor=user, expected=Agent.Status.WRAP_UP)
    offer_publish(offer)
    return offer


def offer_wrap_up_skip(*, agent: Agent) -> None:
    """An agent in wrap-up goes available without a disposition: their last call is wrapped up as it is.

    Runs in the caller's transaction, which rolls it back if the agent may not go available after all.
    """
    if not Agent.objects.filter(pk=agent.pk, status=Agent.Status.WRAP_UP).exists():
        return
    offer = (Offer.objects.select_for_update(no_key=True)
             .filter(pk=_latest_answered(agent), wrapped_at__isnull=True).exclude(status__in=Offer.LIVE).first())
    if offer is not None:
        offer.wrapped_at = timezone.now()
        offer.save(update_fields=["wrapped_at"])
        offer_publish(offer)


def _latest_answered(agent: Agent) -> int | None:
    return Offer.objects.filter(agent=agent, answered_at__isnull=False).values_list("pk", flat=True).first()


# --- The agent's answer from the workspace ---------------------------------------------------
def _own(offer: Offer, user) -> None:
    if offer.agent.user_id != user.pk:
        raise ApplicationError("This call is not yours.")


def offer_accept(*, offer: Offer, user) -> Offer:
    """Answer a ringing offer from the browser in sandbox mode (the sandbox's simulated phone picks up).

    With a real account the agent answers on their phone, or the browser
    softphone answers through Telnyx's WebRTC SDK; nothing is sent from here.
    """
    from apps.sandbox.client import SandboxClient, SandboxError

    offer = Offer.objects.select_related("agent__user", "agent_call").get(pk=offer.pk)
    _own(offer, user)
    if offer.status != Status.RINGING:
        raise ApplicationError("This call is no longer ringing.")
    if not settings.TELNYX_SANDBOX:
        raise ApplicationError("Answer on your phone (or the softphone in this page).")
    ccid = offer.agent_call_control_id
    if not ccid:
        raise ApplicationError("The call is still being placed: try again in a moment.")
    try:
        with SandboxClient(settings.TELNYX_SANDBOX_URL) as sandbox:
            sandbox.answer(ccid)
    except SandboxError as exc:
        raise ApplicationError("The simulated phone could not answer.", {"sandbox": exc.body}) from exc
    return offer


@transaction.atomic
def offer_decline(*, offer: Offer, user) -> Offer:
    """The agent turns a ringing call down: their phone stops, the caller goes to the next agent."""
    locked = offer_lock(offer.pk)
    if locked is None:
        raise ApplicationError("This call is no longer ringing.")
    customer, entry, offer = locked
    _own(offer, user)
    if offer.status != Status.RINGING:
        raise ApplicationError("This call is no longer ringing.")
    offer_end(offer, Status.DECLINED, "declined")
    offer_hangup_leg(offer, "declined")
    if entry.call_id:
        call_log(call=entry.call, kind="queue.declined", actor=user, source="user",
                 data={"offer": offer.pk, "agent": offer.agent.name})
    offer_failed(customer, entry, offer)
    return offer


# --- Telnyx's answers to our commands ----------------------------------------------------------
def _offer_of(command: TelnyxCommand) -> tuple[int, str] | None:
    match = _KEY.search(command.key)
    return (int(match.group(1)), match.group(2)) if match else None


@on_command_success("dial")
def offer_dial_placed(command: TelnyxCommand) -> None:
    """Note the agent leg's id as soon as Telnyx gives it: a cancel no longer waits for its first webhook."""
    found = _offer_of(command)
    if found is None or found[1] != "dial":
        return
    ccid = ((command.response or {}).get("data") or {}).get("call_control_id") or ""
    if ccid:
        Offer.objects.filter(pk=found[0], agent_call_control_id="").update(agent_call_control_id=ccid)
        offer = Offer.objects.filter(pk=found[0]).select_related("agent_call").first()
        if offer is not None and not offer.live:
            offer_hangup_leg(offer, "cancel")


@on_command_success("conference_create")
def offer_conference_created(command: TelnyxCommand) -> None:
    found = _offer_of(command)
    if found is None:
        return
    conference_id = ((command.response or {}).get("data") or {}).get("id") or ""
    if conference_id:
        Offer.objects.filter(pk=found[0]).update(conference_id=conference_id)


@on_command_failure("dial", "leave_queue", "conference_create", "conference_join")
def offer_command_failed(command: TelnyxCommand) -> None:
    """A step of ringing or connecting failed: nobody may be left ringing, waiting or alone."""
    found = _offer_of(command)
    if found is None:
        return
    offer_id, step = found
    locked = offer_lock(offer_id)
    if locked is None:
        return
    customer, entry, offer = locked
    logger.warning("offer %s: %s failed: %s", offer_id, command.action, command.error)
    if step.startswith("join") and offer.status == Status.CONNECTED and command.error_code == CALL_GONE_CODE \
            and _caller_not_met_yet(customer, entry, offer):
        _agent_dropped(offer)  # the agent's leg was gone before the join (its hang-up not handled yet)
    if offer.end_reason == DROPPED:
        # The steps of connecting end one by one after the agent dropped. A
        # join that reached Telnyx means the caller is in the conference.
        _requeue(customer, entry, offer, in_conference=step.startswith("join") and command.response_status is not None)
    elif step == "callback-dial":
        # The call-back could not be placed: the request goes back in line; the agent, alone in
        # the conference, is let go (no wrap-up: see _leg_ended).
        from apps.queues.services.customer import callback_missed

        callback_missed(entry=entry, offer=offer)
        if offer.status == Status.CONNECTED:
            offer.end_reason = "callback dial failed"
            offer.save(update_fields=["end_reason"])
            offer_hangup_leg(offer, "connect-failed")
    elif step == "dial" and offer.status == Status.RINGING:
        offer_end(offer, Status.FAILED, "dial failed")
        agent_set_status(agent=offer.agent, status=Agent.Status.AWAY, reason="Phone unreachable",
                         expected=Agent.Status.RINGING)
        offer_failed(customer, entry, offer)
    elif step == "leave-queue" and command.error_code == CALL_GONE_CODE:
        return  # the caller hung up meanwhile: their hang-up ends the agent's side
    elif step == "leave-queue" and offer.status == Status.CONNECTED and customer.status != Call.Status.ENDED:
        # Telnyx had already taken the caller out of its queue (a max-wait timeout
        # crossing our command): the conference does not need that step.
        _conference(offer, customer, depends_on=None, again=True)
    elif step.startswith(("conference", "join")) and offer.status == Status.CONNECTED:
        offer_hangup_leg(offer, "connect-failed")
        if customer is not None and customer.status != Call.Status.ENDED:
            call_command(call=customer, action="hangup", body={}, key=f"offer:{offer.pk}:connect-failed")
