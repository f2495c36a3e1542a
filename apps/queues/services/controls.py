"""What an agent does on a connected call from the workspace: hold, mute, keys, hang up.

Hold and mute act on the offer's conference (hold the caller; mute the
agent), so they work the same whatever the agent's phone is. Keys go to
whoever the agent is talking to: Telnyx's send_dtmf plays the tones to the
far end of the leg it is sent on, so they are sent on the caller's leg (or,
while a warm transfer's consult is on, the consulted party's leg), never the
agent's, whose own phone would be the one to hear them.
"""

from __future__ import annotations

import re

from django.db import transaction

from apps.calls.models import Call
from apps.calls.services import call_log
from apps.core.exceptions import ApplicationError
from apps.queues.models import Offer, Transfer
from apps.queues.realtime import offer_publish
from apps.queues.services.offers import offer_hangup_leg
from apps.queues.services.transfers import _connected, _hold, _live_transfer
from apps.telnyx.services import command_create

DTMF = re.compile(r"^[0-9A-D*#wW]{1,32}$")


@transaction.atomic
def offer_hold(*, offer: Offer, user, on: bool) -> Offer:
    """Put the caller on hold (they hear the queue's hold audio) or take them off it."""
    customer, _, offer = _connected(offer.pk, user)
    if offer.held == on:
        return offer
    _hold(offer, customer, on)
    call_log(call=customer, kind="hold" if on else "unhold", actor=user, source="user", data={"offer": offer.pk})
    offer_publish(offer)
    return offer


@transaction.atomic
def offer_mute(*, offer: Offer, user, on: bool) -> Offer:
    """Mute the agent in the conference (the caller stops hearing them) or unmute."""
    customer, _, offer = _connected(offer.pk, user)
    if offer.muted == on:
        return offer
    command_create(
        action="conference_mute" if on else "conference_unmute",
        body={"call_control_ids": [offer.agent_call_control_id]},
        conference_id=offer.conference_id or offer.conference_name,
    )
    offer.muted = on
    offer.save(update_fields=["muted"])
    call_log(call=customer, kind="mute" if on else "unmute", actor=user, source="user", data={"offer": offer.pk})
    offer_publish(offer)
    return offer


@transaction.atomic
def offer_send_dtmf(*, offer: Offer, user, digits: str) -> Offer:
    """Press keys for the agent to the party they are talking to (say, a company's menu that called in)."""
    customer, _, offer = _connected(offer.pk, user)
    if not DTMF.match(digits or ""):
        raise ApplicationError("Keys are 0-9, *, #, A-D (w and W pause).", {"field": "digits"})
    command_create(action="send_dtmf", body={"digits": digits}, call_control_id=_far_party(offer, customer))
    return offer


def _far_party(offer: Offer, customer) -> str:
    """The leg whose far end the agent talks to: the consulted party during a warm transfer, else the caller."""
    transfer = _live_transfer(offer)
    if transfer is not None and transfer.status == Transfer.Status.CONSULTING:
        if transfer.consult_call is not None and transfer.consult_call.status != Call.Status.ENDED:
            return transfer.consult_call.call_control_id
        consult = transfer.consult_offer
        if consult is not None and consult.agent_call_control_id:
            return consult.agent_call_control_id
    return customer.call_control_id


@transaction.atomic
def offer_hangup(*, offer: Offer, user) -> Offer:
    """The agent ends the call: their leg is hung up; the caller follows and wrap-up starts."""
    customer, _, offer = _connected(offer.pk, user)
    call_log(call=customer, kind="agent.hangup", actor=user, source="user", data={"offer": offer.pk})
    offer_hangup_leg(offer, "agent")
    return offer
