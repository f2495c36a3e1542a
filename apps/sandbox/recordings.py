"""Call recordings: record_* commands, saved webhooks and the recordings API,
mixed into Calls. Media URLs point at the sandbox itself
(``/_sandbox/media/recordings/<id>.wav|mp3``) and serve generated audio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors
from .responses import ok, paginate
from .state import Leg, Recording, iso, new_uuid, utcnow

if TYPE_CHECKING:
    from .engine import ApiRequest, Engine


class RecordingCommands:
    e: Engine
    recordings: dict[str, Recording]

    @staticmethod
    def _record_options(body: dict, prefix: str = "") -> dict:
        return {
            "format": body.get(f"{prefix}format") or "mp3",
            "channels": body.get(f"{prefix}channels") or "dual",
            "max_length": body.get(f"{prefix}max_length") or 0,
        }

    def record_start(self, leg: Leg, body: dict) -> tuple[int, dict]:
        if leg.recording is not None:
            raise errors.unable("The call is already being recorded")
        self.start_recording(leg, self._record_options(body))
        return ok()

    def start_recording(
        self, leg: Leg, options: dict, conference_id: str | None = None
    ) -> Recording:
        recording = Recording(
            id=options.get("id") or new_uuid(),
            call_control_id=leg.call_control_id,
            call_leg_id=leg.call_leg_id,
            call_session_id=leg.call_session_id,
            connection_id=leg.connection_id,
            from_=leg.from_,
            to=leg.to,
            format=options["format"],
            channels=options["channels"],
            started_at=utcnow(),
            client_state=leg.client_state,
            call_started_at=leg.created_at,
            conference_id=conference_id,
        )
        leg.recording = recording
        leg.recording_ids.append(recording.id)
        if options.get("max_length"):
            recording.timer = self.e.spawn(
                self._recording_limit(leg, recording, options["max_length"]), owner=leg
            )
        return recording

    async def _recording_limit(self, leg: Leg, recording: Recording, seconds: int) -> None:
        await self.e.sleep(seconds * 1000)
        if leg.recording is recording:
            self.finish_recording(leg)

    def finish_recording(self, leg: Leg) -> None:
        recording, leg.recording = leg.recording, None
        if recording is None:
            return
        self.e.cancel(recording.timer)
        if recording.paused_at is not None:
            recording.paused_seconds += (utcnow() - recording.paused_at).total_seconds()
            recording.paused_at = None
        recording.ended_at = utcnow()
        self.recordings[recording.id] = recording
        urls = self.recording_urls(recording)
        self.e.emit_leg(
            leg,
            "call.recording.saved",
            {
                "recording_id": recording.id,
                "channels": recording.channels,
                "format": recording.format,
                "recording_started_at": iso(recording.started_at),
                "recording_ended_at": iso(recording.ended_at),
                "start_time": iso(recording.started_at),
                "end_time": iso(recording.ended_at),
                "recording_urls": urls,
                "public_recording_urls": dict(urls),
            },
            client_state=leg.client_state or recording.client_state,
        )

    def recording_urls(self, recording: Recording) -> dict:
        base = f"{self.e.base_url}/_sandbox/media/recordings/{recording.id}"
        return {"mp3": f"{base}.mp3", "wav": f"{base}.wav"}

    def record_stop(self, leg: Leg, body: dict) -> tuple[int, dict]:
        if leg.recording is not None:
            self.finish_recording(leg)
        return ok()

    def record_pause(self, leg: Leg, body: dict) -> tuple[int, dict]:
        if leg.recording is not None and leg.recording.paused_at is None:
            leg.recording.paused_at = utcnow()
        return ok()

    def record_resume(self, leg: Leg, body: dict) -> tuple[int, dict]:
        recording = leg.recording
        if recording is not None and recording.paused_at is not None:
            recording.paused_seconds += (utcnow() - recording.paused_at).total_seconds()
            recording.paused_at = None
        return ok()

    def recording_json(self, recording: Recording) -> dict:
        return {
            "record_type": "recording",
            "id": recording.id,
            "call_control_id": recording.call_control_id,
            "call_leg_id": recording.call_leg_id,
            "call_session_id": recording.call_session_id,
            "connection_id": recording.connection_id,
            "channels": recording.channels,
            "created_at": iso(recording.ended_at),
            "updated_at": iso(recording.ended_at),
            "download_urls": self.recording_urls(recording),
            "duration_millis": int(recording.duration_seconds * 1000),
            "from": recording.from_,
            "to": recording.to,
            "recording_started_at": iso(recording.started_at),
            "recording_ended_at": iso(recording.ended_at),
            "source": "conference" if recording.conference_id else "call",
            "status": "completed",
            **({"conference_id": recording.conference_id} if recording.conference_id else {}),
        }

    async def recording_list(self, request: ApiRequest) -> tuple[int, dict]:
        wanted = request.deep.get("filter") or {}
        rows = []
        for recording in self.recordings.values():
            row = self.recording_json(recording)
            if all(
                row.get(key) == value for key, value in wanted.items() if isinstance(value, str)
            ):
                rows.append(row)
        rows.sort(key=lambda row: row["created_at"], reverse=True)
        return 200, paginate(rows, request.deep.get("page") or {})

    async def recording_get(self, request: ApiRequest) -> tuple[int, dict]:
        recording = self.recordings.get(request.path_params["recording_id"])
        if recording is None:
            raise errors.recording_not_found()
        return 200, {"data": self.recording_json(recording)}

    async def recording_delete(self, request: ApiRequest) -> tuple[int, dict]:
        recording = self.recordings.pop(request.path_params["recording_id"], None)
        if recording is None:
            raise errors.recording_not_found()
        return 200, {"data": self.recording_json(recording)}
