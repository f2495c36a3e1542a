"""Queue services: entries, the dispatcher, offers to agents, the caller's side, transfers, controls, the tick.

The IVR and the number routes only need :func:`queue_enter`.
"""

from apps.queues.services.entries import FLOW, queue_enter, queue_entry_enqueued, queue_entry_left

__all__ = ["FLOW", "queue_enter", "queue_entry_enqueued", "queue_entry_left"]
