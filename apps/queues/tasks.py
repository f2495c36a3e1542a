"""Celery tasks of routing: the dispatcher (woken by events) and the periodic tick."""

from celery import shared_task

from apps.queues.services.dispatch import queue_dispatch_until_settled
from apps.queues.services.tick import queues_tick


@shared_task(name="apps.queues.tasks.queue_dispatch", acks_late=True, ignore_result=True)
def queue_dispatch_task() -> int:
    """Match waiting callers with available agents (safe to run any number of times at once)."""
    return queue_dispatch_until_settled(woken=True)


@shared_task(name="apps.queues.tasks.queues_tick", ignore_result=True)
def queues_tick_task() -> None:
    """Periodic: give up on lost offers, end wrap-ups, announce positions, dispatch."""
    queues_tick()
