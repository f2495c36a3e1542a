"""Queue commands (enqueue, leave_queue) and the queues API, mixed into Calls.

Positions are 1-based; ``queue_avg_wait_time_secs`` is the mean wait of the
calls that already left the queue. ``max_wait_time_secs`` removes a call with
reason ``timeout`` and leaves it parked, as the queueing guide says;
``keep_after_hangup`` is accepted and ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors
from .responses import ok, paginate
from .state import Leg, Queue, iso, utcnow

if TYPE_CHECKING:
    from .engine import ApiRequest, Engine


class QueueCommands:
    e: Engine
    queues: dict[str, Queue]

    def enqueue(self, leg: Leg, body: dict) -> tuple[int, dict]:
        name = body["queue_name"]
        if leg.queue_name == name:
            raise errors.already_in_queue()
        queue = self.queues.get(name)
        if queue is None:
            queue = self.queues[name] = Queue(name=name, max_size=int(body.get("max_size", 100)))
        if len(queue.calls) >= queue.max_size:
            raise errors.queue_full(name)
        if leg.queue_name:
            self.dequeue(leg, "leave")
        self.unbridge(leg)  # the queueing guide: an enqueued call is unbridged
        queue.calls.append(leg.call_control_id)
        queue.updated_at = utcnow()
        leg.queue_name, leg.enqueued_at = name, utcnow()
        self.e.emit_leg(
            leg,
            "call.enqueued",
            {
                "queue": name,
                "current_position": len(queue.calls),
                "queue_avg_wait_time_secs": queue.average_wait(),
            },
        )
        if body.get("max_wait_time_secs"):
            self.e.spawn(
                self._queue_timeout(leg, name, leg.enqueued_at, body["max_wait_time_secs"]),
                owner=leg,
            )
        return ok()

    async def _queue_timeout(self, leg: Leg, name: str, since, seconds: int) -> None:
        await self.e.sleep(seconds * 1000)
        if leg.queue_name == name and leg.enqueued_at == since:
            self.dequeue(leg, "timeout")  # the call stays parked, as the guide says

    def dequeue(self, leg: Leg, reason: str) -> None:
        queue = self.queues.get(leg.queue_name or "")
        if queue is None or leg.call_control_id not in queue.calls:
            leg.queue_name = None
            return
        position = queue.calls.index(leg.call_control_id) + 1
        queue.calls.remove(leg.call_control_id)
        wait = (utcnow() - leg.enqueued_at).total_seconds()
        queue.waits.append(wait)
        queue.updated_at = utcnow()
        leg.queue_name = leg.enqueued_at = None
        self.e.emit_leg(
            leg,
            "call.dequeued",
            {
                "queue": queue.name,
                "queue_position": position,
                "reason": reason,
                "wait_time_secs": int(wait),
            },
        )

    def leave_queue(self, leg: Leg, body: dict) -> tuple[int, dict]:
        if leg.queue_name:
            self.dequeue(leg, "leave")
        return ok()

    async def queue_get(self, request: ApiRequest) -> tuple[int, dict]:
        queue = self._queue(request.path_params["queue_name"])
        return 200, {"data": self.queue_json(queue)}

    def _queue(self, name: str) -> Queue:
        queue = self.queues.get(name)
        if queue is None:
            raise errors.not_found("Queue not found")
        return queue

    @staticmethod
    def queue_json(queue: Queue) -> dict:
        return {
            "record_type": "queue",
            "id": queue.id,
            "name": queue.name,
            "current_size": len(queue.calls),
            "max_size": queue.max_size,
            "average_wait_time_secs": queue.average_wait(),
            "created_at": iso(queue.created_at),
            "updated_at": iso(queue.updated_at),
        }

    async def queue_calls(self, request: ApiRequest) -> tuple[int, dict]:
        queue = self._queue(request.path_params["queue_name"])
        rows = []
        for position, ccid in enumerate(queue.calls, start=1):
            leg = self.e.legs[ccid]
            rows.append(
                {
                    "record_type": "queue_call",
                    "call_control_id": ccid,
                    "call_leg_id": leg.call_leg_id,
                    "call_session_id": leg.call_session_id,
                    "connection_id": leg.connection_id,
                    "from": leg.from_,
                    "to": leg.to,
                    "enqueued_at": iso(leg.enqueued_at),
                    "wait_time_secs": int((utcnow() - leg.enqueued_at).total_seconds()),
                    "queue_position": position,
                    "queue_id": queue.id,
                    "is_alive": leg.alive,
                }
            )
        return 200, paginate(rows, request.deep.get("page") or {})
