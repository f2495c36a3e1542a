"""Conferences, participants and who hears whom.

Supervisor roles follow the join command's description in the spec:
"barge" is an ordinary participant (same as "none"); "monitor" hears
everyone and is heard by no one; "whisper" is heard only by the
participants in ``whisper_call_control_ids`` (none listed: a monitor).
A participant on hold neither hears nor is heard, nor is a muted one heard;
nobody hears anybody before the conference has started.

A participant that hangs up, is bridged or transferred elsewhere leaves.
The conference ends when its last participant leaves, or when a participant
joined with ``end_conference_on_exit`` (others are hung up) or
``soft_end_conference_on_exit`` (others stay parked) leaves. Leaving never
hangs up the leg itself. ``conference.ended`` for an ``end`` command carries
no ``reason`` (the webhook's enum has no "ended_via_api"; the conference
resource's ``end_reason`` does).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

from . import errors
from .calls import AUDIO_MS, speech_ms
from .responses import ok, paginate
from .state import Conference, Leg, Participant, iso, new_uuid, utcnow

if TYPE_CHECKING:
    from .engine import ApiRequest, Engine

_WEBHOOK_END_REASONS = ("all_left", "host_left", "time_exceeded")


class Conferences:
    def __init__(self, engine: Engine):
        self.e = engine
        self.items: dict[str, Conference] = {}

    def clear(self) -> None:
        self.items = {}

    def handlers(self) -> dict:
        table = {
            "conference_create": self.create,
            "conference.list": self.list,
            "conference.get": self.get,
            "conference.participants": self.participants,
        }
        for name in (
            "join",
            "leave",
            "hold",
            "unhold",
            "mute",
            "unmute",
            "update",
            "speak",
            "play",
            "stop",
            "end",
        ):
            table[f"conference.{name}"] = self._action(getattr(self, f"do_{name}"))
        return table

    def _action(self, fn):
        async def run(request: ApiRequest) -> tuple[int, dict]:
            conference = self.find(request.path_params["id"])
            if conference.status == "completed":
                raise errors.conference_ended()
            return fn(conference, request.body or {})

        return run

    def find(self, id_or_name: str) -> Conference:
        """By id, else by name (the live one first): the spec accepts both."""
        if id_or_name in self.items:
            return self.items[id_or_name]
        named = [c for c in self.items.values() if c.name == id_or_name]
        named.sort(key=lambda c: (c.status != "completed", c.created_at), reverse=True)
        if not named:
            raise errors.conference_not_found()
        return named[0]

    def _leg(self, call_control_id: str | None) -> Leg:
        leg = self.e.legs.get(call_control_id or "")
        if leg is None:
            raise errors.invalid_call_control_id()
        if not leg.alive:
            raise errors.call_ended()
        if not leg.answered:
            raise errors.call_not_answered()
        return leg

    # --- lifecycle ------------------------------------------------------------------

    async def create(self, request: ApiRequest) -> tuple[int, dict]:
        body = request.body
        leg = self._leg(body["call_control_id"])
        if any(c.name == body["name"] and c.status != "completed" for c in self.items.values()):
            raise errors.conference_name_conflict()
        if body.get("client_state") is not None:
            leg.client_state = body["client_state"]
        started = body.get("start_conference_on_create", True)
        conference = Conference(
            id=new_uuid(),
            name=body["name"],
            connection_id=leg.connection_id,
            creator_call_session_id=leg.call_session_id,
            status="in_progress" if started else "init",
            region=body.get("region", "US"),
            beep_enabled=body.get("beep_enabled", "never"),
            hold_audio_url=body.get("hold_audio_url"),
            max_participants=int(body.get("max_participants", 250)),
        )
        minutes = body.get("duration_minutes")
        conference.expires_at = conference.created_at + timedelta(minutes=minutes or 24 * 60)
        self.items[conference.id] = conference
        self.e.emit(
            "conference.created",
            {**self._leg_fields(leg), **self._conference_fields(conference)},
            leg=leg,
        )
        self._add(
            conference,
            leg,
            Participant(
                id=new_uuid(),
                call_control_id=leg.call_control_id,
                call_leg_id=leg.call_leg_id,
                call_session_id=leg.call_session_id,
                conference_id=conference.id,
                on_hold=not started,
                client_state=leg.client_state,
            ),
        )
        if minutes:
            conference.timer = self.e.spawn(self._expire(conference, minutes))
        return 200, {"data": self.conference_json(conference)}

    async def _expire(self, conference: Conference, minutes: int) -> None:
        await self.e.sleep(minutes * 60_000)
        if conference.status != "completed":
            self.end(conference, "time_exceeded")

    def _add(self, conference: Conference, leg: Leg, participant: Participant) -> None:
        calls = self.e.calls
        if leg.queue_name:
            calls.dequeue(leg, "bridged")  # joining a conference counts as being bridged
        calls.unbridge(leg)
        calls.stop_media(leg, status="cancelled")
        if leg.gather is not None:
            calls.finish_gather(leg, "cancelled")
        conference.participants[leg.call_control_id] = participant
        conference.updated_at = utcnow()
        leg.conference_id = conference.id
        self.e.emit(
            "conference.participant.joined",
            {**self._leg_fields(leg), "conference_id": conference.id},
            leg=leg,
        )

    def do_join(self, conference: Conference, body: dict) -> tuple[int, dict]:
        leg = self._leg(body["call_control_id"])
        if leg.conference_id == conference.id:
            raise errors.unable("The call is already a participant of this conference")
        if len(conference.participants) >= conference.max_participants:
            raise errors.max_participants(conference.max_participants)
        if leg.conference_id:
            self.participant_gone(leg)
        if body.get("client_state") is not None:
            leg.client_state = body["client_state"]
        participant = Participant(
            id=new_uuid(),
            call_control_id=leg.call_control_id,
            call_leg_id=leg.call_leg_id,
            call_session_id=leg.call_session_id,
            conference_id=conference.id,
            muted=bool(body.get("mute")),
            on_hold=bool(body.get("hold")) or conference.status == "init",
            supervisor_role=body.get("supervisor_role", "none"),
            whisper_call_control_ids=list(body.get("whisper_call_control_ids") or []),
            end_conference_on_exit=bool(body.get("end_conference_on_exit")),
            soft_end_conference_on_exit=bool(body.get("soft_end_conference_on_exit")),
            client_state=leg.client_state,
        )
        self._add(conference, leg, participant)
        if body.get("start_conference_on_enter") and conference.status == "init":
            conference.status = "in_progress"
            for other in conference.participants.values():
                other.on_hold = False  # they were held only because it had not started
        return ok()

    def do_leave(self, conference: Conference, body: dict) -> tuple[int, dict]:
        leg = self.e.legs.get(body["call_control_id"])
        if leg is None or leg.call_control_id not in conference.participants:
            raise errors.invalid_call_control_id()
        self.participant_gone(leg)
        return ok()

    def participant_gone(self, leg: Leg) -> None:
        """The leg leaves its conference (left, hung up, bridged or moved)."""
        conference = self.items.get(leg.conference_id or "")
        leg.conference_id = None
        if conference is None:
            return
        participant = conference.participants.pop(leg.call_control_id, None)
        if participant is None:
            return
        self._left(conference, leg, participant)
        if conference.status == "completed":
            return
        if participant.end_conference_on_exit:
            self.end(conference, "host_left", hang_up_others=True, by=leg)
        elif participant.soft_end_conference_on_exit:
            self.end(conference, "host_left", by=leg)
        elif not conference.participants:
            self.end(conference, "all_left", by=leg)

    def _left(self, conference: Conference, leg: Leg, participant: Participant) -> None:
        participant.status = "left"
        participant.updated_at = conference.updated_at = utcnow()
        conference.past_participants.append(participant)
        self.e.emit(
            "conference.participant.left",
            {**self._leg_fields(leg), "conference_id": conference.id},
            leg=leg,
        )

    def end(
        self,
        conference: Conference,
        reason: str,
        *,
        hang_up_others: bool = False,
        by: Leg | None = None,
    ) -> None:
        # Mark it over first: hanging up the others re-enters participant_gone().
        conference.status = "completed"
        conference.end_reason = reason
        conference.updated_at = utcnow()
        if by is not None:
            conference.ended_by = {
                "call_control_id": by.call_control_id,
                "call_session_id": by.call_session_id,
            }
        self.e.cancel(conference.timer)
        self._stop_media(conference)
        remaining = list(conference.participants.items())
        conference.participants.clear()
        for call_control_id, participant in remaining:
            leg = self.e.legs[call_control_id]
            leg.conference_id = None
            self._left(conference, leg, participant)
            if hang_up_others:
                self.e.calls.end_leg(leg, "normal_clearing", "unknown")
        payload = {**(self._leg_fields(by) if by else {}), **self._conference_fields(conference)}
        if reason in _WEBHOOK_END_REASONS:
            payload["reason"] = reason
        self.e.emit("conference.ended", payload, leg=by)

    def do_end(self, conference: Conference, body: dict) -> tuple[int, dict]:
        self.end(conference, "ended_via_api")
        return ok()

    # --- participant controls ----------------------------------------------------------

    def _targets(self, conference: Conference, ids: list | None) -> list[Participant]:
        # The spec: "when empty, all participants" (hold, mute, play, speak).
        if not ids:
            return list(conference.participants.values())
        return [conference.participants[i] for i in ids if i in conference.participants]

    def _set(self, conference: Conference, body: dict, **changes) -> tuple[int, dict]:
        for participant in self._targets(conference, body.get("call_control_ids")):
            for name, value in changes.items():
                setattr(participant, name, value)
            participant.updated_at = utcnow()
        return ok()

    def do_hold(self, conference: Conference, body: dict) -> tuple[int, dict]:
        return self._set(conference, body, on_hold=True)

    def do_unhold(self, conference: Conference, body: dict) -> tuple[int, dict]:
        return self._set(conference, body, on_hold=False)

    def do_mute(self, conference: Conference, body: dict) -> tuple[int, dict]:
        return self._set(conference, body, muted=True)

    def do_unmute(self, conference: Conference, body: dict) -> tuple[int, dict]:
        return self._set(conference, body, muted=False)

    def do_update(self, conference: Conference, body: dict) -> tuple[int, dict]:
        participant = conference.participants.get(body["call_control_id"])
        if participant is None:
            raise errors.invalid_call_control_id()
        participant.supervisor_role = body["supervisor_role"]
        if "whisper_call_control_ids" in body:
            participant.whisper_call_control_ids = list(body["whisper_call_control_ids"] or [])
        participant.updated_at = utcnow()
        return ok()

    # --- conference audio ----------------------------------------------------------------

    def do_speak(self, conference: Conference, body: dict) -> tuple[int, dict]:
        item = {"kind": "speak", "text": body["payload"], "voice": body["voice"]}
        self._start_media(
            conference, item, body.get("call_control_ids"), speech_ms(body["payload"])
        )
        return ok()

    def do_play(self, conference: Conference, body: dict) -> tuple[int, dict]:
        if not body.get("audio_url") and not body.get("media_name"):
            raise errors.invalid_parameter(
                "audio_url or media_name is required", pointer="/audio_url"
            )
        loop = body.get("loop", 1)
        loops = None if str(loop).lower() == "infinity" else max(1, int(loop))
        item = {"kind": "audio", "url": body.get("audio_url"), "media_name": body.get("media_name")}
        self._start_media(
            conference,
            item,
            body.get("call_control_ids"),
            None if loops is None else AUDIO_MS * loops,
        )
        return ok()

    def do_stop(self, conference: Conference, body: dict) -> tuple[int, dict]:
        self._stop_media(conference)
        return ok()

    def _start_media(
        self, conference: Conference, item: dict, ids: list | None, duration_ms: float | None
    ) -> None:
        self._stop_media(conference)
        targets = [p.call_control_id for p in self._targets(conference, ids)]
        conference.media = {**item, "targets": targets, "started_at": iso(utcnow())}
        started = (
            "conference.speak.started" if item["kind"] == "speak" else "conference.playback.started"
        )
        self.e.emit(started, self._media_payload(conference, item))
        conference.media_task = self.e.spawn(self._play(conference, duration_ms))

    async def _play(self, conference: Conference, duration_ms: float | None) -> None:
        if duration_ms is None:  # loop "infinity"
            await asyncio.Event().wait()
        await self.e.sleep(duration_ms)
        self._media_done(conference)

    def _stop_media(self, conference: Conference) -> None:
        if conference.media is not None:
            self.e.cancel(conference.media_task)
            self._media_done(conference)

    def _media_done(self, conference: Conference) -> None:
        item, conference.media, conference.media_task = conference.media, None, None
        if item is None:
            return
        ended = "conference.speak.ended" if item["kind"] == "speak" else "conference.playback.ended"
        self.e.emit(ended, self._media_payload(conference, item))

    def _media_payload(self, conference: Conference, item: dict) -> dict:
        payload = {
            "conference_id": conference.id,
            "connection_id": conference.connection_id,
            "creator_call_session_id": conference.creator_call_session_id,
            "occurred_at": iso(utcnow()),
        }
        if item["kind"] == "audio":
            payload.update(media_url=item.get("url"), media_name=item.get("media_name"))
        return payload

    # --- who hears whom ----------------------------------------------------------------------

    def hears(self, conference: Conference) -> dict[str, list[str]]:
        """For each participant, the participants whose voice reaches them."""
        result = {}
        for listener in conference.participants.values():
            result[listener.call_control_id] = [
                speaker.call_control_id
                for speaker in conference.participants.values()
                if speaker is not listener and self._audible(conference, speaker, listener)
            ]
        return result

    @staticmethod
    def _audible(conference: Conference, speaker: Participant, listener: Participant) -> bool:
        if (
            conference.status != "in_progress"
            or speaker.muted
            or speaker.on_hold
            or listener.on_hold
        ):
            return False
        if speaker.supervisor_role == "monitor":
            return False
        if speaker.supervisor_role == "whisper":
            return listener.call_control_id in speaker.whisper_call_control_ids
        return True

    # --- JSON -------------------------------------------------------------------------------

    @staticmethod
    def _leg_fields(leg: Leg) -> dict:
        return {
            "call_control_id": leg.call_control_id,
            "call_leg_id": leg.call_leg_id,
            "call_session_id": leg.call_session_id,
            "connection_id": leg.connection_id,
            "client_state": leg.client_state,
        }

    @staticmethod
    def _conference_fields(conference: Conference) -> dict:
        return {
            "conference_id": conference.id,
            "connection_id": conference.connection_id,
            "occurred_at": iso(utcnow()),
        }

    @staticmethod
    def conference_json(conference: Conference) -> dict:
        data = {
            "record_type": "conference",
            "id": conference.id,
            "name": conference.name,
            "created_at": iso(conference.created_at),
            "updated_at": iso(conference.updated_at),
            "expires_at": iso(conference.expires_at),
            "status": conference.status,
            "connection_id": conference.connection_id,
            "region": conference.region,
        }
        if conference.end_reason:
            data["end_reason"] = conference.end_reason
        if conference.ended_by:
            data["ended_by"] = conference.ended_by
        return data

    @staticmethod
    def participant_json(conference: Conference, participant: Participant) -> dict:
        return {
            "record_type": "participant",
            "id": participant.id,
            "call_control_id": participant.call_control_id,
            "call_leg_id": participant.call_leg_id,
            "conference": {"id": conference.id, "name": conference.name},
            "whisper_call_control_ids": participant.whisper_call_control_ids,
            "created_at": iso(participant.created_at),
            "updated_at": iso(participant.updated_at),
            "end_conference_on_exit": participant.end_conference_on_exit,
            "soft_end_conference_on_exit": participant.soft_end_conference_on_exit,
            "status": participant.status,
            "muted": participant.muted,
            "on_hold": participant.on_hold,
        }

    async def list(self, request: ApiRequest) -> tuple[int, dict]:
        wanted = request.deep.get("filter") or {}
        rows = [
            self.conference_json(c)
            for c in sorted(self.items.values(), key=lambda c: c.created_at, reverse=True)
            if (not wanted.get("name") or c.name == wanted["name"])
            and (not wanted.get("status") or c.status == wanted["status"])
        ]
        return 200, paginate(rows, request.deep.get("page") or {})

    async def get(self, request: ApiRequest) -> tuple[int, dict]:
        return 200, {"data": self.conference_json(self.find(request.path_params["id"]))}

    async def participants(self, request: ApiRequest) -> tuple[int, dict]:
        conference = self.find(request.path_params["conference_id"])
        wanted = request.deep.get("filter") or {}
        rows = []
        for participant in conference.participants.values():
            if "muted" in wanted and participant.muted != wanted["muted"]:
                continue
            if "on_hold" in wanted and participant.on_hold != wanted["on_hold"]:
                continue
            whispering = participant.supervisor_role == "whisper"
            if "whispering" in wanted and whispering != wanted["whispering"]:
                continue
            rows.append(self.participant_json(conference, participant))
        return 200, paginate(rows, request.deep.get("page") or {})

    def control_json(self, conference: Conference) -> dict:
        """The control API's view: the resource plus roles and who hears whom."""
        hears = self.hears(conference)
        return {
            **self.conference_json(conference),
            "media": conference.media,
            "participants": [
                {
                    **self.participant_json(conference, p),
                    "supervisor_role": p.supervisor_role,
                    "hears": hears.get(p.call_control_id, []),
                    "hears_conference_audio": bool(
                        conference.media and p.call_control_id in conference.media["targets"]
                    ),
                }
                for p in conference.participants.values()
            ],
            "hears": hears,
        }
