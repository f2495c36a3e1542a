"""Voicemail boxes and messages: creating them, marking them handled, calling back."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.calls.models import Call
from apps.calls.services import call_log
from apps.core.exceptions import ApplicationError
from apps.recordings.models import Recording, Voicemail, VoicemailBox, VoicemailCallback
from apps.telnyx.client_state import client_state_encode
from apps.telnyx.services import command_create

CALLBACK_FLOW = "vm_callback"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SIP_URI = re.compile(r"^sips?:[^@\s]+@[^\s@]+$")
RING_SECONDS = 30


def is_dialable(value: str) -> bool:
    return bool(E164.match(value or "") or SIP_URI.match(value or ""))


@transaction.atomic(savepoint=False)
def voicemail_box_for(*, ivr=None, queue=None) -> VoicemailBox:
    """The box of an IVR or of a queue, created the first time it is needed."""
    if (ivr is None) == (queue is None):
        raise ValueError("a box belongs to an IVR or to a queue")
    owner = {"ivr": ivr} if ivr is not None else {"queue": queue}
    box = VoicemailBox.objects.filter(**owner).first()
    if box is not None:
        return box
    name = f"{(ivr or queue).name} voicemail"[:100]
    try:
        with transaction.atomic():
            return VoicemailBox.objects.create(name=name, **owner)
    except IntegrityError:  # created by a concurrent call a moment ago
        return VoicemailBox.objects.get(**owner)


@transaction.atomic(savepoint=False)
def voicemail_create(*, recording: Recording, box: VoicemailBox, call: Call | None) -> Voicemail:
    """File a recorded message in its box (once per recording, however often Telnyx says so)."""
    voicemail, created = Voicemail.objects.get_or_create(
        recording=recording,
        defaults={
            "box": box,
            "call": call,
            "from_number": call.from_number if call else "",
            "caller_name": call.caller_name if call else "",
            "to_number": call.to_number if call else "",
            "duration_seconds": recording.duration_seconds,
        },
    )
    if created and call is not None:
        call_log(call=call, kind="voicemail", data={"box": box.pk, "voicemail": voicemail.pk})
    return voicemail


@transaction.atomic
def voicemail_mark_handled(*, voicemail: Voicemail, user, handled: bool = True) -> Voicemail:
    """Mark a message handled by ``user`` (or back to new), noting who and when."""
    voicemail = Voicemail.objects.select_for_update().get(pk=voicemail.pk)
    if handled and voicemail.status != Voicemail.Status.HANDLED:
        voicemail.status, voicemail.handled_at, voicemail.handled_by = Voicemail.Status.HANDLED, timezone.now(), user
    elif not handled:
        voicemail.status, voicemail.handled_at, voicemail.handled_by = Voicemail.Status.NEW, None, None
    voicemail.save(update_fields=["status", "handled_at", "handled_by"])
    if voicemail.call_id:
        call_log(call=voicemail.call, kind="voicemail.handled" if handled else "voicemail.reopened",
                 data={"voicemail": voicemail.pk}, actor=user, source="user")
    return voicemail


@transaction.atomic
def voicemail_callback_start(*, voicemail: Voicemail, user, phone: str) -> VoicemailCallback:
    """Call the caller back: ring ``phone`` (the user's) first; when they answer, dial the caller.

    The caller sees the box's number (or the number they dialled) as caller
    ID, so they recognise who is calling them back.
    """
    phone = (phone or "").strip()
    if not is_dialable(phone):
        raise ApplicationError("Give the number (E.164) or SIP URI of the phone to ring first.")
    if not is_dialable(voicemail.from_number):
        raise ApplicationError(f"The caller's number {voicemail.from_number or '(withheld)'} cannot be called back.")
    caller_id = voicemail.box.callback_number or voicemail.to_number
    if not E164.match(caller_id or ""):
        raise ApplicationError("This box has no number to call back from: set its callback number.")
    busy = voicemail.callbacks.exclude(status__in=VoicemailCallback.FINAL)
    if busy.exists():
        raise ApplicationError("A call back for this message is already in progress.")
    callback = VoicemailCallback.objects.create(voicemail=voicemail, user=user, user_phone=phone, caller_id=caller_id)
    voicemail_callback_dial(callback, to=phone, leg="user")
    if voicemail.call_id:
        call_log(call=voicemail.call, kind="voicemail.callback", data={"callback": callback.pk, "phone": phone},
                 actor=user, source="user")
    return callback


def voicemail_callback_dial(callback: VoicemailCallback, *, to: str, leg: str, link_to: str = "") -> None:
    """Dial one leg of a call-back (``leg`` "user" or "caller"); its webhooks reach the ``vm_callback`` flow."""
    body = {
        "to": to,
        "from": callback.caller_id,
        "connection_id": settings.TELNYX_CONNECTION_ID,
        "timeout_secs": RING_SECONDS,
        "client_state": client_state_encode({"flow": CALLBACK_FLOW, "cb": callback.pk, "leg": leg}),
    }
    if link_to:
        # Telnyx bridges the two legs itself the moment the caller answers.
        body.update({"link_to": link_to, "bridge_on_answer": True})
    command_create(action="dial", body=body, key=f"vm-callback:{callback.pk}:{leg}")


@transaction.atomic
def voicemail_box_update(*, box: VoicemailBox, name: str | None = None, callback_number: str | None = None) -> VoicemailBox:
    """Rename a box or set the number call-backs come from (admins)."""
    if name is not None:
        if not name.strip():
            raise ApplicationError("A box needs a name.")
        box.name = name.strip()
    if callback_number is not None:
        callback_number = callback_number.strip()
        if callback_number and not E164.match(callback_number):
            raise ApplicationError("The callback number must be in E.164, e.g. +13125550100.")
        box.callback_number = callback_number
    box.save(update_fields=["name", "callback_number"])
    return box
