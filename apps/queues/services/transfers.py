"""Handing a connected caller on: blind or warm, to an agent, a queue or a number.

Blind: the caller goes at once and the agent's leg is hung up (wrap-up).
To a queue the caller is enqueued there keeping their place; to an agent,
they wait in the same queue offered to that agent only, and only while that
agent may take them soon: straight to the whole queue if the agent is away
or offline, after the queue's ring timeout if they are busy, as soon as
their phone rings out (see ``entry_target_until``); to a number, Telnyx
transfers the caller's leg (if nobody answers, the caller goes back to the
queue they came from, keeping their place).

Warm: the caller is held in the conference while the agent's colleague (or
the number) is rung and joins it; the agent talks to them, then completes
(the caller is unheld and the agent leaves) or cancels (the consulted party
is hung up and the caller unheld). A warm transfer needs someone to talk
to, so it goes to an agent or a number, not a queue.

Legs dialled to a number run the ``transfer`` flow (client_state names the
transfer); a colleague's leg is an ordinary agent leg of a *consult* offer.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.agents.models import Agent
from apps.agents.services import agent_set_status
from apps.calls.models import Call
from apps.calls.services import call_command, call_hangup, call_log, call_set_flow
from apps.core.exceptions import ApplicationError
from apps.numbers.validation import destination_normalize, presented_caller_id
from apps.queues.models import Offer, Queue, QueueEntry, Transfer
from apps.queues.realtime import offer_publish
from apps.queues.services.dispatch import offer_dial
from apps.queues.services.entries import queue_enter
from apps.queues.services.offers import _own, offer_end, offer_hangup_leg, offer_lock
from apps.telnyx.client_state import client_state_encode
from apps.telnyx.events import WebhookEvent
from apps.telnyx.services import command_create

TRANSFER_FLOW = "transfer"
NUMBER_RING_SECS = 30
# A caller handed to a colleague is served before the colleague's other callers.
TRANSFER_PRIORITY = 100


def _connected(offer_id: int, user) -> tuple[Call, QueueEntry, Offer]:
    locked = offer_lock(offer_id)
    if locked is None:
        raise ApplicationError("There is no such call.")
    customer, entry, offer = locked
    _own(offer, user)
    if offer.status != Offer.Status.CONNECTED or customer is None or customer.status == Call.Status.ENDED:
        raise ApplicationError("You are not on this call any more.")
    return customer, entry, offer


def _live_transfer(offer: Offer) -> Transfer | None:
    return (
        offer.transfers.select_for_update(no_key=True, of=("self",))
        .select_related("consult_offer__agent_call", "consult_call", "to_agent")
        .filter(status__in=Transfer.LIVE).first()
    )


@transaction.atomic
def transfer_start(
    *, offer: Offer, user, mode: str, target: str, agent: Agent | None = None, queue: Queue | None = None,
    to: str = "",
) -> Transfer:
    """Start handing the caller of ``offer`` (the user's connected call) on."""
    customer, entry, offer = _connected(offer.pk, user)
    if _live_transfer(offer) is not None:
        raise ApplicationError("A transfer of this call is already under way.")
    if target == Transfer.Target.AGENT and (agent is None or agent.pk == offer.agent_id):
        raise ApplicationError("Choose a colleague to transfer to.", {"field": "agent"})
    if target == Transfer.Target.QUEUE and queue is None:
        raise ApplicationError("Choose a queue to transfer to.", {"field": "queue"})
    if target == Transfer.Target.NUMBER:
        try:
            to = destination_normalize(to)
        except Exception as exc:  # a ValidationError with a message for people
            raise ApplicationError(getattr(exc, "messages", [str(exc)])[0], {"field": "to"}) from None
    if mode == Transfer.Mode.WARM and target == Transfer.Target.QUEUE:
        raise ApplicationError("A warm transfer needs someone to talk to: choose an agent or a number, "
                               "or transfer to the queue blind.", {"field": "mode"})
    transfer = Transfer.objects.create(offer=offer, mode=mode, target=target, to_agent=agent, to_queue=queue,
                                       to_number=to, status=Transfer.Status.RINGING)
    call_log(call=customer, kind="transfer.start", actor=user, source="user",
             data={"transfer": transfer.pk, "mode": mode, "target": target, "to": to or str(agent or queue)})
    if mode == Transfer.Mode.BLIND:
        _blind(customer, entry, offer, transfer)
    else:
        _warm(customer, entry, offer, transfer)
    offer_publish(offer)
    return transfer


def _blind(customer: Call, entry: QueueEntry, offer: Offer, transfer: Transfer) -> None:
    if transfer.target == Transfer.Target.NUMBER:
        call_command(
            call=customer, action="transfer",
            body={
                "to": transfer.to_number,
                "from": presented_caller_id(customer.from_number, customer.to_number),
                "timeout_secs": NUMBER_RING_SECS,
                "target_leg_client_state": client_state_encode({"flow": TRANSFER_FLOW, "transfer": transfer.pk}),
            },
            key=f"transfer:{transfer.pk}:transfer",
        )
    else:
        left = leave_conference(offer, customer, f"transfer:{transfer.pk}:leave")
        if transfer.target == Transfer.Target.QUEUE:
            queue_enter(call=customer, queue=transfer.to_queue, priority=entry.priority, place_at=entry.place_at,
                        depends_on=left)
        else:
            queue_enter(call=customer, queue=entry.queue, priority=TRANSFER_PRIORITY, place_at=entry.place_at,
                        target_agent=transfer.to_agent, depends_on=left)
        transfer.status, transfer.finished_at = Transfer.Status.COMPLETED, timezone.now()
        transfer.save(update_fields=["status", "finished_at"])
    _agent_leaves(offer)


def _warm(customer: Call, entry: QueueEntry, offer: Offer, transfer: Transfer) -> None:
    if transfer.target == Transfer.Target.AGENT:
        colleague = Agent.objects.select_for_update(no_key=True).select_related("user").get(pk=transfer.to_agent_id)
        if colleague.status != Agent.Status.AVAILABLE or not colleague.dial_target:
            raise ApplicationError(f"{colleague.name} is not available.", {"field": "agent"})
        _hold(offer, customer, True)
        agent_set_status(agent=colleague, status=Agent.Status.RINGING, expected=Agent.Status.AVAILABLE)
        consult = Offer.objects.create(
            entry=entry, agent=colleague, kind=Offer.Kind.CONSULT, dial_to=colleague.dial_target,
            customer_call=customer, conference_name=offer.conference_name, conference_id=offer.conference_id,
        )
        transfer.consult_offer = consult
        transfer.save(update_fields=["consult_offer"])
        offer_dial(offer=consult, entry=entry)
        offer_publish(consult, card=True)
    else:
        _hold(offer, customer, True)
        command_create(
            action="dial",
            body={
                "to": transfer.to_number,
                "from": customer.to_number,  # one of our numbers
                "connection_id": customer.connection_id or settings.TELNYX_CONNECTION_ID,
                "timeout_secs": NUMBER_RING_SECS,
                "client_state": client_state_encode({"flow": TRANSFER_FLOW, "transfer": transfer.pk}),
            },
            key=f"transfer:{transfer.pk}:dial",
        )


@transaction.atomic
def transfer_complete(*, offer: Offer, user) -> Transfer:
    """Warm transfer: the caller stays with the consulted party; the agent leaves for wrap-up."""
    customer, entry, offer = _connected(offer.pk, user)
    transfer = _live_transfer(offer)
    if transfer is None or transfer.status != Transfer.Status.CONSULTING:
        raise ApplicationError("Nobody has joined yet: wait for them to answer, or cancel.")
    transfer.status, transfer.finished_at = Transfer.Status.COMPLETED, timezone.now()
    transfer.save(update_fields=["status", "finished_at"])
    _hold(offer, customer, False)
    consult = transfer.consult_offer
    if consult is not None:
        consult.held = False
        consult.save(update_fields=["held"])
        offer_publish(consult)
    call_log(call=customer, kind="transfer.complete", actor=user, source="user", data={"transfer": transfer.pk})
    _agent_leaves(offer)
    offer_publish(offer)
    return transfer


@transaction.atomic
def transfer_cancel(*, offer: Offer, user) -> Transfer:
    """Warm transfer: hang up on the consulted party and take the caller back."""
    customer, entry, offer = _connected(offer.pk, user)
    transfer = _live_transfer(offer)
    if transfer is None:
        raise ApplicationError("There is no transfer to cancel.")
    transfer_abandon(transfer=transfer)
    _hold(offer, customer, False)
    call_log(call=customer, kind="transfer.cancel", actor=user, source="user", data={"transfer": transfer.pk})
    offer_publish(offer)
    return transfer


def transfer_hand_over(*, transfer: Transfer, customer: Call) -> None:
    """The agent hung up while consulting: the caller stays with the consulted party (off hold)."""
    transfer.status, transfer.finished_at = Transfer.Status.COMPLETED, timezone.now()
    transfer.save(update_fields=["status", "finished_at"])
    _hold(transfer.offer, customer, False)
    call_log(call=customer, kind="transfer.complete", data={"transfer": transfer.pk, "by": "agent hung up"})


def transfer_abandon(*, transfer: Transfer, status: str = Transfer.Status.CANCELLED) -> None:
    """Stop a live transfer: the consulted leg (a colleague's or a number's) is hung up."""
    transfer.status, transfer.finished_at = status, timezone.now()
    transfer.save(update_fields=["status", "finished_at"])
    consult = transfer.consult_offer
    if consult is not None and consult.live:
        if consult.status == Offer.Status.RINGING:
            offer_end(consult, Offer.Status.CANCELLED, "transfer cancelled")
        else:
            offer_end(consult, Offer.Status.ENDED, "transfer cancelled")
        offer_hangup_leg(consult, "transfer-cancelled")
    leg = transfer.consult_call
    if leg is not None and leg.status != Call.Status.ENDED:
        call_hangup(call=leg, key=f"transfer:{transfer.pk}:cancel")


def _agent_leaves(offer: Offer) -> None:
    """The transferring agent's part is over: their leg goes (wrap-up follows), the caller stays."""
    offer_end(offer, Offer.Status.ENDED, "transferred")
    offer_hangup_leg(offer, "transferred")


def _hold(offer: Offer, customer: Call, on: bool) -> None:
    action = "conference_hold" if on else "conference_unhold"
    body = {"call_control_ids": [customer.call_control_id]}
    if on and offer.entry.queue.hold_audio_url:
        body["audio_url"] = offer.entry.queue.hold_audio_url
    command_create(action=action, body=body, conference_id=offer.conference_id or offer.conference_name)
    offer.held = on
    offer.save(update_fields=["held"])


def leave_conference(offer: Offer, customer: Call, key: str):
    return command_create(
        action="conference_leave", body={"call_control_id": customer.call_control_id},
        conference_id=offer.conference_id or offer.conference_name, key=key,
    )


# --- A colleague answering or not (their consult offer) ---------------------------------------------
def transfer_consult_answered(*, offer: Offer, at: datetime) -> None:
    """The colleague picked up: they join the conference and talk to the agent while the caller holds."""
    from apps.queues.services.offers import AGENT_FLOW

    transfer = Transfer.objects.select_for_update(no_key=True).filter(consult_offer=offer).first()
    if transfer is None or transfer.status != Transfer.Status.RINGING:
        offer_end(offer, Offer.Status.CANCELLED, "transfer cancelled")
        offer_hangup_leg(offer, "transfer-cancelled")
        return
    transfer.status = Transfer.Status.CONSULTING
    transfer.save(update_fields=["status"])
    offer.status, offer.answered_at, offer.held = Offer.Status.CONNECTED, at, False
    offer.save(update_fields=["status", "answered_at", "held"])
    agent_set_status(agent=offer.agent, status=Agent.Status.ON_CALL, expected=Agent.Status.RINGING)
    command_create(
        action="conference_join", conference_id=offer.conference_id or offer.conference_name,
        body={"call_control_id": offer.agent_call_control_id,
              "client_state": client_state_encode({"flow": AGENT_FLOW, "offer": offer.pk})},
        key=f"offer:{offer.pk}:join",
    )
    offer_publish(offer)
    offer_publish(transfer.offer)


def transfer_consult_failed(*, offer: Offer) -> None:
    """The colleague did not answer: the caller is taken off hold, back with the agent."""
    transfer = Transfer.objects.select_for_update(no_key=True).select_related("offer__entry__queue", "offer__agent").filter(
        consult_offer=offer, status=Transfer.Status.RINGING
    ).first()
    if transfer is None:
        return
    transfer.status, transfer.finished_at = Transfer.Status.FAILED, timezone.now()
    transfer.save(update_fields=["status", "finished_at"])
    original = transfer.offer
    if original.status == Offer.Status.CONNECTED and offer.customer_call is not None:
        _hold(original, offer.customer_call, False)
    offer_publish(original)


# --- A number's leg ----------------------------------------------------------------------------------
def transfer_leg_event(call: Call, event: WebhookEvent) -> None:
    """Webhooks of a leg dialled (warm) or transferred to (blind) a number."""
    transfer_id = event.client_state.get("transfer") or call.flow_state.get("transfer")
    offer_id = Transfer.objects.filter(pk=transfer_id).values_list("offer_id", flat=True).first()
    locked = offer_lock(offer_id) if offer_id else None
    if locked is None:
        return
    customer, entry, offer = locked
    transfer = Transfer.objects.select_for_update(no_key=True).get(pk=transfer_id)
    if transfer.consult_call_id is None:
        call.parent = customer
        call.destination = transfer.to_number
        call.save(update_fields=["parent", "destination", "updated_at"])
        call_set_flow(call=call, flow=TRANSFER_FLOW, state={"transfer": transfer.pk})
        transfer.consult_call = call
        transfer.save(update_fields=["consult_call"])
    kind = event.event_type
    if kind == "call.answered":
        _number_answered(call, customer, offer, transfer)
    elif kind == "call.hangup":
        _number_gone(call, customer, entry, offer, transfer)
    else:
        return
    offer_publish(offer)


def _number_answered(call: Call, customer: Call, offer: Offer, transfer: Transfer) -> None:
    if transfer.status != Transfer.Status.RINGING:
        if transfer.mode == Transfer.Mode.WARM:
            call_hangup(call=call, key=f"transfer:{transfer.pk}:late")
        return
    if transfer.mode == Transfer.Mode.BLIND:
        transfer.status, transfer.finished_at = Transfer.Status.COMPLETED, timezone.now()
        transfer.save(update_fields=["status", "finished_at"])
        return
    transfer.status = Transfer.Status.CONSULTING
    transfer.save(update_fields=["status"])
    command_create(
        action="conference_join", conference_id=offer.conference_id or offer.conference_name,
        body={"call_control_id": call.call_control_id,
              "client_state": client_state_encode({"flow": TRANSFER_FLOW, "transfer": transfer.pk})},
        key=f"transfer:{transfer.pk}:join",
    )


def _number_gone(call: Call, customer: Call | None, entry: QueueEntry, offer: Offer, transfer: Transfer) -> None:
    alive = customer is not None and customer.status != Call.Status.ENDED
    if transfer.status == Transfer.Status.RINGING:
        transfer.status, transfer.finished_at = Transfer.Status.FAILED, timezone.now()
        transfer.save(update_fields=["status", "finished_at"])
        if transfer.mode == Transfer.Mode.WARM and offer.status == Offer.Status.CONNECTED and alive:
            _hold(offer, customer, False)
        elif transfer.mode == Transfer.Mode.BLIND and alive:
            # Nobody took the caller: back to the queue they came from, keeping their place.
            queue_enter(call=customer, queue=entry.queue, priority=entry.priority + 1, place_at=entry.place_at)
    elif transfer.status == Transfer.Status.CONSULTING:
        transfer.status, transfer.finished_at = Transfer.Status.CANCELLED, timezone.now()
        transfer.save(update_fields=["status", "finished_at"])
        if offer.status == Offer.Status.CONNECTED and alive:
            _hold(offer, customer, False)
    elif transfer.status == Transfer.Status.COMPLETED and transfer.mode == Transfer.Mode.WARM and alive:
        call_hangup(call=customer, key=f"transfer:{transfer.pk}:party-gone")  # alone in the conference
