"""Call legs: dialling, answering, media, gathers, queues, bridges, recordings.

Webhooks follow the lists in Telnyx's "sending commands" page, in that order.
Where Telnyx's docs are silent the sandbox chooses, and says so here:

* Bridges and hang-ups. When a leg hangs up, a leg it was *bridged* to (bridge
  command, or ``bridge_on_answer``) is hung up too, as the spec's
  ``park_after_unbridge`` text says ("if not set, the default behavior is to
  hang up the leg"); a leg bridged with ``park_after_unbridge: "self"`` is
  parked instead. The config knob ``unbridge_behavior: "park"`` leaves every
  unbridged leg parked. Legs joined by a *transfer* always go down together.
  A cascaded hang-up has ``hangup_cause: normal_clearing`` and
  ``hangup_source: unknown``.
* ``hangup_source``: the far end hanging up is ``caller`` on an incoming leg
  and ``callee`` on an outgoing one; the app hanging up is the other side.
  Ring timeouts and time limits are ``unknown``.
* Speak and playback share one line of audio per leg, as the spec says:
  "if multiple speak text (play audio) commands are issued consecutively,
  the audio files will be placed in a queue awaiting playback". A speak or
  playback sent while something plays waits its turn; behind an endless
  ``loop`` it never plays. Their ``stop`` field clears the way first:
  ``current`` stops what plays (the next in line starts), ``all`` also drops
  what was waiting. ``playback_stop`` stops what plays, speak or playback
  (``stop: all``, the default, also drops the waiting ones; ``current``
  lets the next one start). Waiting audio sends no events until it starts;
  its events carry the client_state of the command that sent it. A
  stopped speak's ``call.speak.ended`` carries no ``status`` (the spec's
  enum has no value for it); a stopped playback's has ``cancelled``, a
  hang-up ``call_hangup``. ``overlay`` mixing is not modelled: an overlay
  playback waits in line like any other.
* Gathers (the docs are silent on how they meet other audio): a gather
  stops what the leg was hearing and drops what was waiting (the "ended"
  event of the old audio is sent first); a speak or playback sent during a
  gather waits until the gather ends. Bridging, transferring, joining a
  conference and hanging up stop the audio and drop what was waiting.
* Gathers: ``maximum_tries`` replays the prompt after a timeout, and after
  invalid input (with ``invalid_payload``/``invalid_audio_url`` when given).
  Each prompt play consumes the next ``dtmf_script`` entry of the caller,
  pressed after the prompt plus a short think time; "" means silence.
  Digits pressed during the prompt barge in and stop it.
* ``playback_stop``, ``gather_stop``, ``record_stop`` and ``leave_queue`` when
  there is nothing to stop answer 200 and do nothing: a timer may have
  ended the thing a moment before the app's command arrived.
* ``send_dtmf`` plays the tones to the far end of the leg it is sent on
  (the spec: "DTMF tones will be heard by the other end of the call"), the
  phone of that leg's caller or callee; they are listed in that leg's
  ``dtmf_sent`` (so are ``send_digits_on_answer`` digits).
* ``to`` given as a list dials its first entry only.
* Time: ``time_scale`` compresses simulated durations (ring, speech, timeouts,
  AMD, max lengths); reported timestamps and durations are wall-clock.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from . import errors
from .amd import AnsweringMachineDetection
from .queues import QueueCommands
from .recordings import RecordingCommands
from .responses import ok
from .state import Gather, Leg, Queue, Recording, iso, new_call_control_id, new_uuid, utcnow

if TYPE_CHECKING:
    from .engine import ApiRequest, Engine

SPEECH_MS_PER_CHAR = 65  # about 15 characters a second, like a TTS voice
MIN_SPEECH_MS = 500
AUDIO_MS = 3000  # the sandbox never fetches audio; every file "plays" 3 s
THINK_MS = 400  # caller's pause after a prompt before pressing keys
DIGIT_GAP_MS = 150

_HANGUP_CAUSES = {"CALL_REJECTED": "call_rejected", "USER_BUSY": "user_busy"}


def speech_ms(text: str) -> float:
    return max(MIN_SPEECH_MS, SPEECH_MS_PER_CHAR * len(text or ""))


class Calls(QueueCommands, RecordingCommands, AnsweringMachineDetection):
    def __init__(self, engine: Engine):
        self.e = engine
        self.queues: dict[str, Queue] = {}
        self.recordings: dict[str, Recording] = {}  # completed, for /v2/recordings

    def clear(self) -> None:
        self.queues = {}
        self.recordings = {}

    def handlers(self) -> dict:
        actions = {
            "answer": (self.answer, False),
            "hangup": (self.hangup, False),
            "reject": (self.reject, False),
            "speak": (self.speak, True),
            "playback_start": (self.playback_start, True),
            "playback_stop": (self.playback_stop, False),
            "gather_using_speak": (self.gather_using_speak, True),
            "gather_using_audio": (self.gather_using_audio, True),
            "gather": (self.gather_plain, True),
            "gather_stop": (self.gather_stop, False),
            "send_dtmf": (self.send_dtmf, True),
            "enqueue": (self.enqueue, True),
            "leave_queue": (self.leave_queue, False),
            "bridge": (self.bridge, True),
            "transfer": (self.transfer, False),
            "record_start": (self.record_start, True),
            "record_stop": (self.record_stop, False),
            "record_pause": (self.record_pause, False),
            "record_resume": (self.record_resume, False),
            "client_state_update": (self.client_state_update, False),
            "transcription_start": (self.transcription_start, True),
            "transcription_stop": (self.transcription_stop, False),
        }
        table = {
            f"call.{name}": self._action(fn, needs_answer)
            for name, (fn, needs_answer) in actions.items()
        }
        table["dial"] = self.dial
        table["call.get"] = self.get_call
        table["queue.get"] = self.queue_get
        table["queue.calls"] = self.queue_calls
        table["recording.list"] = self.recording_list
        table["recording.get"] = self.recording_get
        table["recording.delete"] = self.recording_delete
        return table

    # --- lookup -----------------------------------------------------------------

    def leg(self, call_control_id: str) -> Leg:
        leg = self.e.legs.get(call_control_id)
        if leg is None:
            raise errors.not_found("Call not found")
        return leg

    def _action(self, fn, needs_answer: bool):
        async def run(request: ApiRequest) -> tuple[int, dict]:
            leg = self.leg(request.path_params["call_control_id"])
            if not leg.alive:
                raise errors.call_ended()
            if needs_answer and not leg.answered:
                raise errors.call_not_answered()
            body = request.body or {}
            previous = (leg.client_state, leg.webhook_url)
            # client_state rides on every later webhook of the leg; set it
            # before the command's own webhooks are emitted.
            if body.get("client_state") is not None:
                leg.client_state = body["client_state"]
            if body.get("webhook_url") and fn not in (self.transfer,):
                leg.webhook_url = body["webhook_url"]
            try:
                return fn(leg, body)
            except errors.ApiError:
                leg.client_state, leg.webhook_url = previous
                raise

        return run

    # --- creating legs ------------------------------------------------------------

    def new_leg(
        self,
        *,
        direction: str,
        from_: str,
        to: str,
        connection_id: str,
        session_id: str | None = None,
        client_state: str | None = None,
        webhook_url: str | None = None,
        caller_id_name: str | None = None,
    ) -> Leg:
        leg = Leg(
            call_control_id=new_call_control_id(),
            call_leg_id=new_uuid(),
            call_session_id=session_id or new_uuid(),
            connection_id=connection_id,
            direction=direction,
            from_=from_,
            to=to,
            caller_id_name=caller_id_name,
            client_state=client_state,
            webhook_url=webhook_url,
        )
        self.e.legs[leg.call_control_id] = leg
        return leg

    def place_inbound(self, spec: dict) -> Leg:
        """A simulated caller rings one of our numbers (control API)."""
        to = spec["to"]
        owned = self.e.numbers.owned_by_number(to)
        connection_id = (
            spec.get("connection_id")
            or (owned.connection_id if owned else None)
            or self.e.config.connection_id
        )
        caller_name = spec.get("caller_name")
        if caller_name:
            self.e.numbers.caller_names[spec["from"]] = caller_name
        leg = self.new_leg(
            direction="incoming",
            from_=spec["from"],
            to=to,
            connection_id=connection_id,
            caller_id_name=caller_name or spec["from"],
        )
        leg.dtmf_script = [str(d) for d in spec.get("dtmf_script") or []]
        leg.speech_script = [str(s) for s in spec.get("speech_script") or []]
        leg.hangup_after_ms = spec.get("hangup_after_ms")
        self.e.emit_leg(
            leg,
            "call.initiated",
            {
                "direction": "incoming",
                "state": "parked",
                "caller_id_name": leg.caller_id_name,
                "start_time": iso(leg.created_at),
            },
        )
        return leg

    async def dial(self, request: ApiRequest) -> tuple[int, dict]:
        body = request.body
        to = body["to"][0] if isinstance(body["to"], list) else body["to"]
        if not to:
            raise errors.invalid_parameter("'to' is empty", pointer="/to")
        to, _, inline_digits = to.partition(",")
        linked = self.e.legs.get(body["link_to"]) if body.get("link_to") else None
        if body.get("link_to") and linked is None:
            raise errors.invalid_call_control_id("/link_to")
        leg = self.new_leg(
            direction="outgoing",
            from_=body["from"],
            to=to,
            connection_id=body["connection_id"],
            session_id=linked.call_session_id if linked else None,
            client_state=body.get("client_state"),
            webhook_url=body.get("webhook_url"),
        )
        leg.link_to = linked.call_control_id if linked else None
        leg.bridge_on_answer = bool(body.get("bridge_on_answer") and linked)
        leg.park_after_unbridge = body.get("park_after_unbridge") == "self"
        leg.send_digits_on_answer = body.get("send_digits_on_answer") or inline_digits or None
        leg.time_limit_secs = body.get("time_limit_secs", 14400)
        result: dict[str, Any] = {}
        if body.get("record") == "record-from-answer":
            leg.record_on_answer = self._record_options(body, prefix="record_")
            leg.record_on_answer["id"] = result["recording_id"] = new_uuid()
        self._ring(leg, body)
        return 200, {
            "data": {
                "call_control_id": leg.call_control_id,
                "call_leg_id": leg.call_leg_id,
                "call_session_id": leg.call_session_id,
                "is_alive": True,
                "record_type": "call",
                **({"client_state": leg.client_state} if leg.client_state else {}),
                "start_time": iso(leg.created_at),
                **result,
            }
        }

    def _ring(self, leg: Leg, body: dict) -> None:
        """Send call.initiated for an outgoing leg and let its destination
        decide how the ringing ends."""
        destination = self.destination_for(leg.to)
        leg.destination = destination
        leg.dtmf_script = [str(d) for d in destination.get("dtmf_script") or []]
        leg.hangup_after_ms = destination.get("hangup_after_ms")
        mode = body.get("answering_machine_detection", "disabled")
        if mode != "disabled":
            leg.amd = {"mode": mode, "config": body.get("answering_machine_detection_config") or {}}
        self.e.emit_leg(
            leg,
            "call.initiated",
            {
                "direction": "outgoing",
                "state": "bridging",
                "start_time": iso(leg.created_at),
            },
        )
        timeout_ms = 1000 * body.get("timeout_secs", 30)
        leg.ring_task = self.e.spawn(self._ringing(leg, destination, timeout_ms), owner=leg)

    def destination_for(self, to: str) -> dict:
        bare = to.split(";", 1)[0]
        found = (
            self.e.destinations.get(to)
            or self.e.destinations.get(bare)
            or self.e.destinations.get("*")
        )
        return {"answer": "auto", "ring_ms": self.e.config.default_ring_ms, **(found or {})}

    async def _ringing(self, leg: Leg, destination: dict, timeout_ms: float) -> None:
        mode = destination.get("answer", "auto")
        ring_ms = float(destination.get("ring_ms", self.e.config.default_ring_ms))
        final = {"busy": "user_busy", "reject": "call_rejected", "not_found": "not_found"}
        if mode == "auto" and ring_ms < timeout_ms:
            await self.e.sleep(ring_ms)
            self.remote_answer(leg)
        elif mode in final and ring_ms < timeout_ms:
            await self.e.sleep(ring_ms)
            self.end_leg(leg, final[mode], "callee")
        else:  # manual waits for the control API; never rings out
            await self.e.sleep(timeout_ms)
            self.end_leg(leg, "timeout", "unknown")

    # --- answering ----------------------------------------------------------------

    def remote_answer(self, leg: Leg) -> None:
        """The dialled party picks up (automatically or via the control API)."""
        if leg.direction != "outgoing" or leg.status != "initiated":
            raise errors.unable("Only a ringing outgoing leg can be answered by the far end")
        self.e.cancel(leg.ring_task)
        origin = self.e.legs.get(leg.transfer_from or "")
        if origin is not None and origin.alive:
            # Transfer: the docs list call.bridged before call.answered.
            self._mark_answered(leg)
            origin.transfer_to = None
            self.bridge_legs(origin, leg, kind="transfer")
            self.e.emit_leg(
                leg, "call.answered", {"state": "answered", "start_time": iso(leg.created_at)}
            )
        else:
            self._mark_answered(leg)
            self.e.emit_leg(
                leg, "call.answered", {"state": "answered", "start_time": iso(leg.created_at)}
            )
            linked = self.e.legs.get(leg.link_to or "")
            if leg.bridge_on_answer and linked is not None and linked.alive:
                self.bridge_legs(linked, leg, kind="bridge")
        self._after_answer(leg)

    def _mark_answered(self, leg: Leg) -> None:
        leg.status = "answered"
        leg.answered_at = utcnow()

    def _after_answer(self, leg: Leg) -> None:
        if leg.record_on_answer:
            self.start_recording(leg, leg.record_on_answer)
            leg.record_on_answer = None
        if leg.send_digits_on_answer:
            leg.dtmf_sent.append(
                {
                    "digits": leg.send_digits_on_answer,
                    "at": iso(utcnow()),
                    "source": "send_digits_on_answer",
                }
            )
        if leg.amd:
            self.e.spawn(self._run_amd(leg), owner=leg)
        if leg.hangup_after_ms is not None:
            self.e.spawn(self._remote_hangup_later(leg, float(leg.hangup_after_ms)), owner=leg)
        if leg.time_limit_secs:
            self.e.spawn(self._time_limit(leg, leg.time_limit_secs), owner=leg)

    async def _remote_hangup_later(self, leg: Leg, ms: float) -> None:
        await self.e.sleep(ms)
        self.remote_hangup(leg)

    async def _time_limit(self, leg: Leg, seconds: int) -> None:
        await self.e.sleep(seconds * 1000)
        self.end_leg(leg, "time_limit", "unknown")

    def answer(self, leg: Leg, body: dict) -> tuple[int, dict]:
        if leg.direction != "incoming":
            raise errors.unable("Outgoing calls are answered by the called party")
        if leg.answered:
            raise errors.unable("Call has already been answered")
        self._mark_answered(leg)
        self.e.emit_leg(
            leg, "call.answered", {"state": "answered", "start_time": iso(leg.created_at)}
        )
        extra = {}
        if body.get("record") == "record-from-answer":
            options = self._record_options(body, prefix="record_")
            extra["recording_id"] = self.start_recording(leg, options).id
        self._after_answer(leg)
        return ok(extra)

    # --- hanging up -------------------------------------------------------------

    def hangup(self, leg: Leg, body: dict) -> tuple[int, dict]:
        if leg.direction == "outgoing" and not leg.answered:
            self.end_leg(leg, "originator_cancel", "caller")
        else:
            self.end_leg(
                leg, "normal_clearing", "callee" if leg.direction == "incoming" else "caller"
            )
        return ok()

    def reject(self, leg: Leg, body: dict) -> tuple[int, dict]:
        if leg.direction != "incoming" or leg.answered:
            raise errors.unable("Only an unanswered incoming call can be rejected")
        self.end_leg(leg, _HANGUP_CAUSES[body["cause"]], "callee")
        return ok()

    def remote_hangup(self, leg: Leg, cause: str = "normal_clearing") -> None:
        """The far end hangs up (simulated caller or dialled party)."""
        if leg.direction == "outgoing" and not leg.answered and cause == "normal_clearing":
            cause = "call_rejected"
        self.end_leg(leg, cause, "caller" if leg.direction == "incoming" else "callee")

    def end_leg(self, leg: Leg, cause: str, source: str) -> None:
        """Tear a leg down, sending the webhooks in the order the docs list."""
        if not leg.alive:
            return
        self.stop_media(leg, status="call_hangup")
        if leg.gather is not None:
            self.finish_gather(leg, "call_hangup")
        if leg.queue_name:
            self.dequeue(leg, "hangup")
        if leg.conference_id:
            self.e.conferences.participant_gone(leg)
        leg.status = "ended"
        leg.ended_at = utcnow()
        leg.hangup_cause, leg.hangup_source = cause, source
        self.e.cancel(leg.ring_task)
        self.e.emit_leg(
            leg,
            "call.hangup",
            {
                "hangup_cause": cause,
                "hangup_source": source,
                "state": "hangup",
                "start_time": iso(leg.created_at),
                "end_time": iso(leg.ended_at),
            },
        )
        if leg.recording is not None:
            self.finish_recording(leg)
        for task in list(leg.tasks):
            self.e.cancel(task)
        self._release_peers(leg)

    def _release_peers(self, leg: Leg) -> None:
        pending = self.e.legs.get(leg.transfer_to or "")
        if pending is not None and pending.alive:
            self.end_leg(pending, "originator_cancel", "caller")
        peer = self.e.legs.get(leg.bridged_with or "")
        kind = leg.bridge_kind
        leg.bridged_with = leg.bridge_kind = None
        if peer is None or peer.bridged_with != leg.call_control_id:
            return
        peer.bridged_with = peer.bridge_kind = None
        cascade = kind == "transfer" or self.e.config.unbridge_behavior == "hangup"
        if cascade and not peer.park_after_unbridge:
            self.end_leg(peer, "normal_clearing", "unknown")

    # --- media ------------------------------------------------------------------

    def speak(self, leg: Leg, body: dict) -> tuple[int, dict]:
        item = {
            "kind": "speak",
            "text": body["payload"],
            "voice": body["voice"],
            "language": body.get("language"),
        }
        self.queue_media(leg, item, self._loops(body.get("loop")), stop=self._stop(body))
        return ok()

    def playback_start(self, leg: Leg, body: dict) -> tuple[int, dict]:
        url = body.get("audio_url") or (
            f"media:{body['media_name']}" if body.get("media_name") else None
        )
        if not url and not body.get("playback_content"):
            raise errors.invalid_parameter(
                "audio_url, media_name or playback_content is required", pointer="/audio_url"
            )
        item = {
            "kind": "audio",
            "url": url or "inline:playback_content",
            "overlay": bool(body.get("overlay")),
        }
        if body.get("media_name"):
            item["media_name"] = body["media_name"]
        self.queue_media(leg, item, self._loops(body.get("loop")), stop=self._stop(body))
        return ok()

    def playback_stop(self, leg: Leg, body: dict) -> tuple[int, dict]:
        if body.get("overlay"):
            return ok()  # overlay audio is not modelled: there is none to stop
        self.stop_media(leg, status="cancelled", clear=self._stop(body, default="all") == "all")
        return ok()

    @staticmethod
    def _stop(body: dict, default: str | None = None) -> str | None:
        stop = body.get("stop", default)
        if stop not in (None, "current", "all"):
            raise errors.invalid_parameter("stop must be 'current' or 'all'", pointer="/stop")
        return stop

    @staticmethod
    def _loops(loop: Any) -> int | None:
        if loop in (None, ""):
            return 1
        if isinstance(loop, str) and loop.lower() == "infinity":
            return None
        try:
            return max(1, int(loop))
        except (TypeError, ValueError):
            raise errors.invalid_parameter(
                "loop must be an integer or 'infinity'", pointer="/loop"
            ) from None

    def queue_media(self, leg: Leg, item: dict, loops: int | None, *, stop: str | None) -> None:
        """Put a speak or playback in the leg's line of audio; it starts when its turn comes."""
        if stop == "all":
            leg.media_queue.clear()
        leg.media_queue.append({"item": item, "loops": loops, "client_state": leg.client_state})
        if stop and leg.media is not None and not leg.media.get("gather"):
            self.stop_media(leg, status="cancelled", clear=False)  # the next in line starts
        else:
            self._play_next(leg)

    def _play_next(self, leg: Leg) -> None:
        """Start the first waiting audio if nothing plays and no gather runs."""
        if not leg.alive or leg.media is not None or leg.gather is not None or not leg.media_queue:
            return
        waiting = leg.media_queue.pop(0)
        item, loops = waiting["item"], waiting["loops"]
        leg.media = {**item, "loops": loops, "started_at": iso(utcnow())}
        leg.media_client_state = waiting["client_state"]
        started, _ = self._media_events(item)
        self.e.emit_leg(leg, started, self._media_fields(item), client_state=waiting["client_state"])
        leg.media_task = self.e.spawn(self._play(leg, item, loops), owner=leg)

    async def _play(self, leg: Leg, item: dict, loops: int | None) -> None:
        once = speech_ms(item["text"]) if item["kind"] == "speak" else AUDIO_MS
        if loops is None:
            await asyncio.Event().wait()  # "infinity": until stopped or hung up
        await self.e.sleep(once * loops)
        self._media_done(leg, "completed")

    def stop_media(self, leg: Leg, status: str, *, clear: bool = True) -> None:
        """Stop the audio playing (not a gather's prompt); ``clear`` drops what waits too,
        else the next in line starts."""
        if clear:
            leg.media_queue.clear()
        if leg.media is None or leg.media.get("gather"):
            return
        self.e.cancel(leg.media_task)
        self._media_done(leg, status)

    def _media_done(self, leg: Leg, status: str) -> None:
        item, leg.media, leg.media_task = leg.media, None, None
        if item is None:
            return
        _, ended = self._media_events(item)
        extra = self._media_fields(item)
        if item["kind"] == "audio" or status != "cancelled":
            extra["status"] = status
        self.e.emit_leg(leg, ended, extra, client_state=leg.media_client_state)
        self._play_next(leg)

    @staticmethod
    def _media_events(item: dict) -> tuple[str, str]:
        if item["kind"] == "speak":
            return "call.speak.started", "call.speak.ended"
        return "call.playback.started", "call.playback.ended"

    @staticmethod
    def _media_fields(item: dict) -> dict:
        if item["kind"] == "speak":
            return {}
        return {
            "media_url": None if item["url"].startswith(("media:", "inline:")) else item["url"],
            "media_name": item.get("media_name"),
            "overlay": item.get("overlay", False),
        }

    # --- DTMF and gathers -----------------------------------------------------------

    def press_digits(self, leg: Leg, digits: str) -> None:
        """The far end presses keys: each gives call.dtmf.received, gather or not."""
        for digit in digits:
            if not leg.alive:
                return
            leg.dtmf_received.append(digit)
            self.e.emit_leg(leg, "call.dtmf.received", {"digit": digit})
            if leg.gather is not None:
                leg.gather.digits.put_nowait(digit)
                leg.gather.arrived.set()

    def gather_using_speak(self, leg: Leg, body: dict) -> tuple[int, dict]:
        return self._start_gather(leg, "speak", body)

    def gather_using_audio(self, leg: Leg, body: dict) -> tuple[int, dict]:
        if not body.get("audio_url") and not body.get("media_name"):
            raise errors.invalid_parameter(
                "audio_url or media_name is required", pointer="/audio_url"
            )
        return self._start_gather(leg, "audio", body)

    def gather_plain(self, leg: Leg, body: dict) -> tuple[int, dict]:
        return self._start_gather(leg, "plain", body)

    def _start_gather(self, leg: Leg, kind: str, body: dict) -> tuple[int, dict]:
        self.stop_media(leg, status="cancelled")
        if leg.gather is not None:
            self.finish_gather(leg, "cancelled")
        gather = Gather(kind=kind, params=body, client_state=leg.client_state)
        leg.gather = gather
        gather.task = self.e.spawn(self._run_gather(leg, gather), owner=leg)
        return ok()

    async def _run_gather(self, leg: Leg, gather: Gather) -> None:
        p = gather.params
        tries = 1 if gather.kind == "plain" else max(1, int(p.get("maximum_tries", 3)))
        status = "timeout"
        for attempt in range(tries):
            invalid_retry = attempt > 0 and status == "invalid"
            while not gather.digits.empty():  # keys pressed between tries
                gather.digits.get_nowait()
            gather.arrived.clear()
            barged = await self._gather_prompt(leg, gather, invalid_retry)
            if not barged:
                self._feed_script(leg)
            first_ms = (
                p.get("initial_timeout_millis", 5000)
                if gather.kind == "plain"
                else p.get("timeout_millis", 60000)
            )
            status = await self._collect(gather, first_ms)
            if status == "valid":
                break
            if attempt < tries - 1:
                gather.collected = ""
        self.finish_gather(leg, status)

    async def _gather_prompt(self, leg: Leg, gather: Gather, invalid_retry: bool) -> bool:
        """Play the prompt; True if the caller barged in with a digit."""
        p = gather.params
        if gather.kind == "plain":
            return False
        if gather.kind == "speak":
            text = (
                p.get("invalid_payload")
                if invalid_retry and p.get("invalid_payload")
                else p["payload"]
            )
            item, duration = {"kind": "speak", "text": text, "gather": True}, speech_ms(text)
        else:
            url = (
                p.get("invalid_audio_url")
                if invalid_retry and p.get("invalid_audio_url")
                else p.get("audio_url")
            )
            item = {"kind": "audio", "url": url or f"media:{p.get('media_name')}", "gather": True}
            duration = AUDIO_MS
        leg.media = {**item, "started_at": iso(utcnow())}
        # The gather-using-speak docs list no speak events; gather-using-audio
        # lists playback.started/ended around the prompt.
        if gather.kind == "audio":
            self.e.emit_leg(
                leg,
                "call.playback.started",
                self._media_fields(item),
                client_state=gather.client_state,
            )
        try:
            await asyncio.wait_for(gather.arrived.wait(), timeout=self.e.sim_seconds(duration))
            barged = True
        except TimeoutError:
            barged = False
        leg.media = None
        if gather.kind == "audio":
            fields = {**self._media_fields(item), "status": "cancelled" if barged else "completed"}
            self.e.emit_leg(leg, "call.playback.ended", fields, client_state=gather.client_state)
        return barged

    def _feed_script(self, leg: Leg) -> None:
        if not leg.dtmf_script:
            return
        digits = leg.dtmf_script.pop(0)
        if digits:
            self.e.spawn(self._press_later(leg, digits), owner=leg)

    async def _press_later(self, leg: Leg, digits: str) -> None:
        await self.e.sleep(THINK_MS)
        for index, digit in enumerate(digits):
            if index:
                await self.e.sleep(DIGIT_GAP_MS)
            self.press_digits(leg, digit)

    async def _collect(self, gather: Gather, first_ms: float) -> str:
        p = gather.params
        terminator = p.get("terminating_digit", "#")
        maximum = int(p.get("maximum_digits", 128))
        minimum = int(p.get("minimum_digits", 1))
        valid = p.get("valid_digits", "0123456789#*")
        inter_ms = p.get("inter_digit_timeout_millis", 5000)
        loop = asyncio.get_running_loop()
        # A plain gather also has an overall limit (timeout_millis).
        overall = (
            loop.time() + self.e.sim_seconds(p.get("timeout_millis", 60000))
            if gather.kind == "plain"
            else None
        )
        wait_ms = first_ms
        while True:
            timeout = self.e.sim_seconds(wait_ms)
            if overall is not None:
                timeout = min(timeout, max(0.0, overall - loop.time()))
            try:
                digit = await asyncio.wait_for(gather.digits.get(), timeout=timeout)
            except TimeoutError:
                break
            if terminator and digit == terminator:
                break
            gather.collected += digit
            if len(gather.collected) >= maximum:
                break
            wait_ms = inter_ms
        digits = gather.collected
        if not digits:
            return "timeout"
        if all(d in valid for d in digits) and minimum <= len(digits) <= maximum:
            return "valid"
        return "invalid"

    def finish_gather(self, leg: Leg, status: str) -> None:
        gather, leg.gather = leg.gather, None
        if gather is None:
            return
        self.e.cancel(gather.task)
        if leg.media and leg.media.get("gather"):
            leg.media = None
        self.e.emit_leg(
            leg,
            "call.gather.ended",
            {"digits": gather.collected, "status": status},
            client_state=gather.client_state,
        )
        self._play_next(leg)  # audio sent during the gather waited for it

    def gather_stop(self, leg: Leg, body: dict) -> tuple[int, dict]:
        if leg.gather is not None:
            self.finish_gather(leg, "cancelled")
        return ok()

    def send_dtmf(self, leg: Leg, body: dict) -> tuple[int, dict]:
        leg.dtmf_sent.append(
            {
                "digits": body["digits"],
                "duration_millis": body.get("duration_millis", 250),
                "at": iso(utcnow()),
            }
        )
        return ok()

    # --- bridging and transfer ---------------------------------------------------------

    def bridge(self, leg: Leg, body: dict) -> tuple[int, dict]:
        queue_name, other_id = body.get("queue"), body.get("call_control_id")
        if queue_name and other_id:
            raise errors.invalid_parameter(
                "call_control_id can't be used together with queue", pointer="/queue"
            )
        if not queue_name and not other_id:
            raise errors.invalid_parameter(
                "'call_control_id' is a required property", pointer="/call_control_id"
            )
        if queue_name:
            queue = self.queues.get(queue_name)
            if queue is None or not queue.calls:
                raise errors.unable(f"The '{queue_name}' queue is empty")
            other = self.e.legs[queue.calls[0]]
        else:
            other = self.e.legs.get(other_id)
            if other is None or other is leg:
                raise errors.invalid_call_control_id()
            if not other.alive:
                # Not 90018: that code means *this* call is gone, and the app
                # would treat the agent's leg as hung up.
                raise errors.unable("The call to bridge with has already ended")
            if not other.answered:
                raise errors.call_not_answered()
        if body.get("park_after_unbridge") == "self":
            leg.park_after_unbridge = True
        if body.get("record") == "record-from-answer" and leg.recording is None:
            self.start_recording(leg, self._record_options(body, prefix="record_"))
        self.bridge_legs(leg, other, kind="bridge")
        return ok()

    def bridge_legs(self, a: Leg, b: Leg, *, kind: str) -> None:
        for leg in (a, b):
            if leg.queue_name:
                self.dequeue(leg, "bridged")
            if leg.conference_id:
                self.e.conferences.participant_gone(leg)
            if leg.bridged_with and leg.bridged_with not in (a.call_control_id, b.call_control_id):
                self.unbridge(leg)
            self.stop_media(leg, status="cancelled")
        a.bridged_with, b.bridged_with = b.call_control_id, a.call_control_id
        a.bridge_kind = b.bridge_kind = kind
        self.e.emit_leg(a, "call.bridged")
        self.e.emit_leg(b, "call.bridged")

    def unbridge(self, leg: Leg) -> None:
        """Split a bridge without ending anyone; the old peer stays parked."""
        peer = self.e.legs.get(leg.bridged_with or "")
        leg.bridged_with = leg.bridge_kind = None
        if peer is not None and peer.bridged_with == leg.call_control_id:
            peer.bridged_with = peer.bridge_kind = None

    def transfer(self, leg: Leg, body: dict) -> tuple[int, dict]:
        pending = self.e.legs.get(leg.transfer_to or "")
        if pending is not None and pending.alive:
            raise errors.unable("A transfer of this call is already ringing")
        if leg.queue_name:
            self.dequeue(leg, "bridging-in-process")
        if leg.conference_id:
            self.e.conferences.participant_gone(leg)
        self.unbridge(leg)
        self.stop_media(leg, status="cancelled")
        target = self.new_leg(
            direction="outgoing",
            from_=body.get("from") or leg.to,
            to=body["to"].partition(",")[0],
            connection_id=leg.connection_id,
            session_id=leg.call_session_id,
            client_state=body.get("target_leg_client_state"),
            webhook_url=body.get("webhook_url") or leg.webhook_url,
        )
        target.transfer_from = leg.call_control_id
        target.park_after_unbridge = False
        leg.park_after_unbridge = body.get("park_after_unbridge") == "self"
        leg.transfer_to = target.call_control_id
        target.time_limit_secs = body.get("time_limit_secs", 14400)
        target.send_digits_on_answer = (
            body.get("send_digits_on_answer") or body["to"].partition(",")[2] or None
        )
        if body.get("record") == "record-from-answer":
            target.record_on_answer = self._record_options(body, prefix="record_")
            target.record_on_answer["id"] = new_uuid()
        self._ring(target, body)
        return ok()

    # --- misc -----------------------------------------------------------------------

    def client_state_update(self, leg: Leg, body: dict) -> tuple[int, dict]:
        return ok()  # the wrapper already stored it

    def transcription_start(self, leg: Leg, body: dict) -> tuple[int, dict]:
        if leg.transcribing:
            raise errors.ApiError(
                422,
                "90054",
                "Call transcription is already in progress",
                "Call transcription can not be started more than once.",
            )
        leg.transcribing = True
        return ok()

    def transcription_stop(self, leg: Leg, body: dict) -> tuple[int, dict]:
        leg.transcribing = False
        return ok()

    def say(self, leg: Leg, text: str) -> bool:
        """The far end speaks; with transcription on, the app gets the text.
        (The spec subset has no schema for call.transcription, so it is not
        validated; the shape follows the full spec's Transcription event.)"""
        if not leg.transcribing:
            return False
        self.e.emit_leg(
            leg,
            "call.transcription",
            {
                "transcription_data": {"transcript": text, "confidence": 0.98, "is_final": True},
            },
        )
        return True

    async def get_call(self, request: ApiRequest) -> tuple[int, dict]:
        leg = self.leg(request.path_params["call_control_id"])
        end = leg.ended_at or utcnow()
        data = {
            "record_type": "call",
            "call_control_id": leg.call_control_id,
            "call_leg_id": leg.call_leg_id,
            "call_session_id": leg.call_session_id,
            "is_alive": leg.alive,
            "start_time": iso(leg.created_at),
            "call_duration": int((end - leg.created_at).total_seconds()),
        }
        if leg.client_state:
            data["client_state"] = leg.client_state
        if leg.ended_at:
            data["end_time"] = iso(leg.ended_at)
        return 200, {"data": data}
