"""Call state: applying Telnyx events to calls, and the commands a call can take.

The state machine tolerates what Telnyx documents: events arrive late, out
of order and more than once. Times come from ``occurred_at``; a status only
moves along ``Call.TRANSITIONS``; an event that would move it backwards (a
late ``call.answered`` after ``call.hangup``) records its fact (the answer
time) without reviving the call.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.calls.messages import CallMessages
from apps.calls.models import Call, CallEvent
from apps.core.db import RowLock, changed_fields, field_values, insert_ignoring_conflict
from apps.core.realtime import SUPERVISORS, publish_on_commit
from apps.telnyx.client import CALL_GONE_CODE
from apps.telnyx.client_state import client_state_encode
from apps.telnyx.events import CallHangup, WebhookEvent
from apps.telnyx.models import TelnyxCommand
from apps.telnyx.services import command_create, on_command_failure

logger = logging.getLogger(__name__)

_DIRECTIONS = {"incoming": Call.Direction.INBOUND, "outgoing": Call.Direction.OUTBOUND}


# --- Applying events ----------------------------------------------------------
def call_for_event(event: WebhookEvent) -> Call:
    """The call an event is about, created on first sight and locked for this transaction.

    Any event may be the first we see of a leg (``call.answered`` can overtake
    ``call.initiated``), so every call event can create the row. Concurrent
    workers race on the unique ``call_control_id``; ON CONFLICT DO NOTHING
    lets the database pick the winner and both then lock the same row.
    """
    ccid = event.call_control_id
    call = call_locked(ccid)
    if call is None:
        insert_ignoring_conflict(Call, {"call_control_id": ccid}, conflict="call_control_id")
        call = call_locked(ccid)
    return call


# NO KEY: rows that point at the call (its event log, offers) can still be inserted meanwhile.
_call_lock = RowLock(Call, "call_control_id", no_key=True)


def call_locked(call_control_id: str) -> Call | None:
    """The call with this ``call_control_id``, locked for the current transaction (``None``: unknown)."""
    return _call_lock.get(call_control_id)


def _fill_identity(call: Call, event: WebhookEvent) -> None:
    p = event.payload
    for field, value in (
        ("call_leg_id", p.call_leg_id),
        ("call_session_id", p.call_session_id),
        ("connection_id", p.connection_id),
        ("from_number", p.from_),
        ("to_number", p.to),
        ("direction", _DIRECTIONS.get(p.direction or "")),
        ("caller_name", getattr(p, "caller_id_name", None)),
    ):
        if value and not getattr(call, field):
            setattr(call, field, str(value)[: Call._meta.get_field(field).max_length])


@transaction.atomic(savepoint=False)
def call_apply_event(*, call: Call, event: WebhookEvent) -> bool:
    """Apply one webhook to a locked call; log it; publish if the call changed.

    Returns whether anything a user would see changed. Only the columns the
    event changed are written.
    """
    loaded = field_values(call)
    _fill_identity(call, event)
    before = _visible(call)
    old_status = call.status
    at = event.occurred_at
    if event.event_type == "call.initiated":
        call.initiated_at = _earliest(call.initiated_at, at)
    elif event.event_type == "call.answered":
        _apply_answered(call, at)
    elif event.event_type == "call.hangup":
        _apply_hangup(call, event.payload, at)
    call.outcome = call_outcome(call)
    changed = _visible(call) != before
    if changed:
        call.version += 1
    if fields := changed_fields(call, loaded):
        call.save(update_fields=[*fields, "updated_at"])
    CallEvent.objects.create(
        call=call,
        kind=event.event_type,
        occurred_at=at,
        old_status=old_status if call.status != old_status else "",
        new_status=call.status if call.status != old_status else "",
        telnyx_event=event.record,
        data=_event_data(event),
    )
    if changed:
        call_publish(call)
    return changed


def _apply_answered(call: Call, at: datetime) -> None:
    if call.ended_at and at > call.ended_at:
        return  # cannot be: an answer after the end is noise
    call.answered_at = _earliest(call.answered_at, at)
    _transition(call, Call.Status.ANSWERED)


def _apply_hangup(call: Call, payload: CallHangup, at: datetime) -> None:
    inferred_end = call.status == Call.Status.ENDED and not call.hangup_cause
    if call.status == Call.Status.ENDED and not inferred_end:
        return  # a second hangup for the same leg changes nothing
    call.ended_at = at
    call.hangup_cause = payload.hangup_cause or ""
    call.hangup_source = payload.hangup_source or ""
    call.sip_hangup_cause = (payload.sip_hangup_cause or "")[:10]
    if payload.start_time:
        call.initiated_at = _earliest(call.initiated_at, payload.start_time)
    if call.answered_at and call.answered_at > at:
        call.answered_at = None
    _transition(call, Call.Status.ENDED)


def _transition(call: Call, new: str) -> bool:
    if new in Call.TRANSITIONS[call.status]:
        call.status = new
        return True
    return False


def call_outcome(call: Call) -> str:
    """How the leg ended, from the telephony point of view ('' while live)."""
    if call.status != Call.Status.ENDED:
        return ""
    if call.answered_at:
        return Call.Outcome.ANSWERED
    cause = call.hangup_cause
    if cause == "user_busy":
        return Call.Outcome.BUSY
    if cause in ("timeout", "no_answer"):
        return Call.Outcome.NO_ANSWER
    if cause == "call_rejected":
        return Call.Outcome.REJECTED
    if call.direction == Call.Direction.INBOUND and (cause == "originator_cancel" or call.hangup_source == "caller"):
        return Call.Outcome.ABANDONED
    if call.direction == Call.Direction.OUTBOUND and cause in ("normal_clearing", "originator_cancel"):
        return Call.Outcome.NO_ANSWER
    return Call.Outcome.FAILED


def _earliest(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if current is None:
        return candidate
    if candidate is None:
        return current
    return min(current, candidate)


def _visible(call: Call) -> tuple:
    return (
        call.status, call.outcome, call.answered_at, call.ended_at, call.initiated_at,
        call.hangup_cause, call.from_number, call.to_number, call.caller_name, call.flow,
    )


# Telnyx's recording links play the audio to anyone holding them (the public ones for as
# long as the file exists), so they never reach the event log that pages and the API show:
# recordings are heard only through our own permission-checked view.
_NOT_LOGGED = (
    "call_control_id", "call_leg_id", "call_session_id", "connection_id", "client_state",
    "recording_urls", "public_recording_urls",
)


def _event_data(event: WebhookEvent) -> dict:
    data = event.payload.model_dump(mode="json", by_alias=True, exclude_none=True)
    for key in _NOT_LOGGED:
        data.pop(key, None)
    if event.client_state:
        data["client_state"] = event.client_state
    return data


def call_publish(call: Call) -> None:
    """Tell the browsers watching this call that it changed (after commit)."""
    message = CallMessages.call_updated(call)
    publish_on_commit(SUPERVISORS, message)
    for group in call_extra_groups(call):
        publish_on_commit(group, message)


# Other apps add groups that must hear about a call (its agent, its queue).
_group_resolvers: list = []


def register_call_groups(fn):
    _group_resolvers.append(fn)
    return fn


def call_extra_groups(call: Call) -> set[str]:
    groups: set[str] = set()
    for resolver in _group_resolvers:
        groups.update(resolver(call))
    return groups


@transaction.atomic(savepoint=False)
def call_log(*, call: Call, kind: str, data: dict | None = None, actor=None, source: str = "system") -> CallEvent:
    """Write a non-webhook row in the call's log (a command, an agent's action)."""
    return CallEvent.objects.create(
        call=call, kind=kind, occurred_at=timezone.now(), actor=actor, source=source, data=data or {}
    )


@transaction.atomic(savepoint=False)
def call_set_flow(*, call: Call, flow: str, state: dict | None = None) -> None:
    """Hand the call to a flow (greeting, ivr, queue...) and publish the change."""
    old = call.flow
    call.flow = flow
    call.flow_state = state or {}
    call.version += 1
    call.save(update_fields=["flow", "flow_state", "version", "phone_number", "updated_at"])
    call_log(call=call, kind="flow", data={"from": old, "to": flow})
    call_publish(call)


@transaction.atomic(savepoint=False)
def call_set_connected(*, call: Call, at: datetime | None) -> None:
    """When the caller got through to a person (``None``: after all they did not); publish the change."""
    if call.connected_at == at:
        return
    call.connected_at = at
    call.version += 1
    call.save(update_fields=["connected_at", "version", "updated_at"])
    call_publish(call)


# --- Commands -------------------------------------------------------------------
def call_command(
    *,
    call: Call,
    action: str,
    body: dict | None = None,
    client_state: dict | None = None,
    key: str | None = None,
    depends_on: TelnyxCommand | None = None,
) -> TelnyxCommand | None:
    """Queue a Call Control command for this leg (sent by a worker after commit).

    Returns ``None`` for a leg that has already ended: commands to it could
    only fail. ``key`` names the step so replays add no second command.
    """
    if call.status == Call.Status.ENDED:
        logger.info("not sending %s to ended call %s", action, call.call_control_id)
        return None
    body = dict(body or {})
    if client_state is not None:
        body["client_state"] = client_state_encode(client_state)
    return command_create(
        action=action,
        body=body,
        call_control_id=call.call_control_id,
        key=f"{call.call_control_id}:{key}" if key else None,
        depends_on=depends_on,
    )


def call_answer(*, call: Call, client_state: dict | None = None, key: str = "answer") -> TelnyxCommand | None:
    return call_command(call=call, action="answer", client_state=client_state, key=key)


def call_reject(*, call: Call, cause: str = "CALL_REJECTED", key: str = "reject") -> TelnyxCommand | None:
    return call_command(call=call, action="reject", body={"cause": cause}, key=key)


def call_hangup(*, call: Call, client_state: dict | None = None, key: str = "hangup") -> TelnyxCommand | None:
    return call_command(call=call, action="hangup", client_state=client_state, key=key)


def call_speak(
    *,
    call: Call,
    text: str,
    voice: str | None = None,
    language: str | None = None,
    client_state: dict | None = None,
    key: str | None = None,
    stop: str | None = None,
) -> TelnyxCommand | None:
    """Speak on the call. Telnyx queues audio sent while other audio plays; ``stop``
    ("current" or "all") cuts what plays first, so the text is heard now."""
    body = speak_body(text=text, voice=voice, language=language)
    if stop:
        body["stop"] = stop
    return call_command(call=call, action="speak", body=body, client_state=client_state, key=key)


# Telnyx's basic voices: they speak whatever ``language`` the request names.
BASIC_VOICES = ("male", "female")
# An Azure voice names its locale: Azure.fr-FR-DeniseNeural speaks fr-FR.
_AZURE_LOCALE = re.compile(r"^Azure\.([a-z]{2,3}-[A-Z]{2,3})-")


def speak_body(*, text: str, voice: str | None = None, language: str | None = None) -> dict:
    """The text-to-speech part of speak / gather_using_speak; SSML is passed as such.

    Telnyx takes ``language`` only with the basic ``male``/``female`` voices; a
    named voice (the default Telnyx.KokoroTTS.af, Polly.Amy...) speaks its own
    and the field would be dropped. So a language asked for without a voice,
    which the default voice does not speak, is spoken by the basic female
    voice rather than silently in the default voice's language.
    """
    if not voice:
        voice = settings.TELNYX_DEFAULT_VOICE
        if language and language != voice_language(voice):
            voice = "female"
    body = {"payload": text, "voice": voice}
    if text.lstrip().startswith("<speak"):
        body["payload_type"] = "ssml"
    lang = language or settings.TELNYX_DEFAULT_LANGUAGE
    if lang and voice in BASIC_VOICES:
        body["language"] = lang
    return body


def voice_language(voice: str) -> str:
    """The language a named voice speaks where its name tells us ("" where it does not).

    The default voice speaks ``TELNYX_DEFAULT_LANGUAGE``; an Azure voice carries
    its locale. The basic voices speak any language, so they have none of their own.
    """
    if voice in BASIC_VOICES:
        return ""
    if voice == settings.TELNYX_DEFAULT_VOICE:
        return settings.TELNYX_DEFAULT_LANGUAGE
    match = _AZURE_LOCALE.match(voice)
    return match.group(1) if match else ""


@on_command_failure("*")
def call_mark_gone(command: TelnyxCommand) -> None:
    """A command failed because the leg is gone (422): end the call if we still think it is up.

    The real ``call.hangup`` may be late or lost; until it comes the call is
    marked ended with no cause, and a later hangup fills in the details.
    """
    if command.response_status != 422 or not command.call_control_id:
        return
    if command.error_code and command.error_code != CALL_GONE_CODE:
        return  # refused for another reason (e.g. the leg to bridge with is gone): this leg is fine
    call = call_locked(command.call_control_id)
    if call is None or call.status == Call.Status.ENDED:
        return
    old = call.status
    call.status = Call.Status.ENDED
    call.ended_at = timezone.now()
    call.hangup_source = "unknown"
    call.outcome = call_outcome(call)
    call.version += 1
    call.save()
    CallEvent.objects.create(
        call=call, kind="ended.inferred", occurred_at=call.ended_at, old_status=old, new_status=call.status,
        source="system", data={"command": command.action, "error": command.error},
    )
    call_publish(call)
