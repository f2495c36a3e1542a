"""What an agent does on a connected call from the workspace: hold, mute, keys, hang up.

Hold and mute act on the offer's conference (hold the caller; mute the
agent), so they work the same whatever the agent's phone is. Keys are sent
from the agent's leg, as if pressed on their phone.
"""

from __future__ import annotations

import re

from django.db import transaction

from apps.calls.services import call_log
from apps.core.exceptions import ApplicationError
from apps.queues.models import Offer
from apps.queues.realtime import offer_publish
from apps.queues.services.offers import offer_hangup_leg
from apps.queues.services.transfers import _connected, _hold
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
    """Send keys from the agent's leg (an IVR at the other end hears them)."""
    customer, _, offer = _connected(offer.pk, user)
    if not DTMF.match(digits or ""):
        raise ApplicationError("Keys are 0-9, *, #, A-D (w and W pause).", {"field": "digits"})
    command_create(action="send_dtmf", body={"digits": digits}, call_control_id=offer.agent_call_control_id)
    return offer


@transaction.atomic
def offer_hangup(*, offer: Offer, user) -> Offer:
    """The agent ends the call: their leg is hung up; the caller follows and wrap-up starts."""
    customer, _, offer = _connected(offer.pk, user)
    call_log(call=customer, kind="agent.hangup", actor=user, source="user", data={"offer": offer.pk})
    offer_hangup_leg(offer, "agent")
    return offer
