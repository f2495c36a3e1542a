"""Live updates to browsers: one small publish helper over the channel layer.

Domain services call :func:`publish_on_commit` after they change state; the
message reaches every websocket subscribed to the group (see consumers.py)
only if the transaction commits. Group sends are at-most-once, so messages
carry a ``version`` and clients that see a gap refetch a snapshot.

Groups: ``supervisors`` (everyone who may supervise), ``agents`` (every
agent: colleagues' presence), ``agent-{id}``,
``queue-{id}``, ``user-{id}``, ``call-{id}``.
"""

import asyncio
import json
import logging
import threading
import time

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

SUPERVISORS = "supervisors"
# Every agent's socket: who is free, for the transfer list (status only, nothing about their calls).
AGENTS = "agents"


def agent_group(agent_id) -> str:
    return f"agent-{agent_id}"


def queue_group(queue_id) -> str:
    return f"queue-{queue_id}"


def user_group(user_id) -> str:
    return f"user-{user_id}"


def publish_on_commit(group: str, message: dict) -> None:
    """Send ``message`` to ``group`` once the current transaction commits."""
    # Serialise now: the message must describe the state this transaction
    # wrote, and must be JSON-safe (the consumer forwards it as JSON).
    payload = json.loads(json.dumps(message, cls=DjangoJSONEncoder))
    transaction.on_commit(lambda: publish_rollback_unsafe(group, payload))


# Tells a user's open sockets to close; each browser reconnects and is
# authorised afresh (its groups follow the user's roles and queues now).
RECHECK = "session.recheck"


def user_sockets_recheck_on_commit(user_id) -> None:
    """After commit, make ``user_id``'s live sockets reconnect (logout, a role or queue changed).

    The message says when the change was made: a socket that connected after
    it was authorised with the change already in place and stays open.
    """
    publish_on_commit(user_group(user_id), {"type": RECHECK, "changed_at": time.time()})


def publish_rollback_unsafe(group: str, message: dict) -> None:
    """Send now, even if the surrounding transaction later rolls back.

    The send is handed to a background event loop and not awaited: a group
    send is at-most-once anyway, and a worker must not wait on Redis (nor pay
    for a fresh event loop and connection per message) to tell browsers.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    _publisher.submit(layer, group, message)


class _Publisher:
    """One event loop thread per process that performs channel-layer sends, a few messages per send.

    ``async_to_sync(layer.group_send)`` from a plain thread builds a new
    event loop, and channels-redis a new connection pool, for every call;
    that cost ~5 ms per message in the worker. Here the loop and its
    connections live as long as the process.

    A group send costs the worker about half a millisecond of CPU (and Redis
    two or three round trips) whatever it carries, as much as the rest of
    processing a webhook's state change. So each group gets at most one send
    per ``window``: a message for a group that had none for a window goes
    out at once; under load, the messages that arrive meanwhile go out
    together, in order, as one ``live.push`` with a list (the consumer
    forwards them one frame each).
    """

    window = 0.02

    def __init__(self):
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._pending: dict[str, list] = {}  # group -> messages of its next send
        self._last_sent: dict[str, float] = {}
        self._group_locks: dict[str, asyncio.Lock] = {}  # one send at a time per group keeps the order
        self._in_flight = 0

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="realtime-publisher", daemon=True).start()
                self._loop = loop
                self._reset()
            return self._loop

    def submit(self, layer, group: str, message: dict) -> None:
        self._ensure_loop().call_soon_threadsafe(self._add, layer, group, message)

    def _add(self, layer, group: str, message: dict) -> None:  # on the loop
        pending = self._pending.get(group)
        if pending is not None:
            pending.append(message)  # a send for this group is already due: ride along
            return
        self._pending[group] = [message]
        self._in_flight += 1
        self._loop.create_task(self._send(layer, group))

    async def _send(self, layer, group: str) -> None:
        try:
            lock = self._group_locks.setdefault(group, asyncio.Lock())
            async with lock:
                wait = self._last_sent.get(group, 0.0) + self.window - self._loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._last_sent[group] = self._loop.time()
                messages = self._pending.pop(group)
                await layer.group_send(group, {"type": "live.push", "messages": messages})
        except Exception as exc:
            # A browser missing an update refetches on the next version gap;
            # losing Redis for a moment must not fail the call flow that published.
            logger.warning("realtime publish to %s failed: %s", group, exc)
        finally:
            self._in_flight -= 1
            self._forget_idle_groups()

    def _forget_idle_groups(self) -> None:
        if len(self._last_sent) < 1000:
            return
        cutoff = self._loop.time() - self.window
        for group, sent in list(self._last_sent.items()):
            lock = self._group_locks.get(group)
            if sent < cutoff and group not in self._pending and not (lock and lock.locked()):
                del self._last_sent[group]
                self._group_locks.pop(group, None)

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every send submitted so far has run (tests, shutdown)."""
        if self._loop is None:
            return

        async def drained():
            while self._in_flight:
                await asyncio.sleep(0.002)

        asyncio.run_coroutine_threadsafe(drained(), self._loop).result(timeout)


_publisher = _Publisher()
flush_publishes = _publisher.flush


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    """The in-memory layer, usable from worker threads of the same process.

    Channels' in-memory layer keeps asyncio queues bound to the event loop of
    the consumer reading them. In the embedded demo the Celery worker runs in
    a thread with its own loop, and a plain ``put_nowait`` from there would not
    wake the consumer. Sends from another loop are handed to the loop that
    owns the channel. Production uses channels-redis and never needs this.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._owners: dict[str, asyncio.AbstractEventLoop] = {}

    async def receive(self, channel):
        self._owners[channel] = asyncio.get_running_loop()
        return await super().receive(channel)

    async def send(self, channel, message):
        owner = self._owners.get(channel)
        current = asyncio.get_running_loop()
        if owner is None or owner is current or owner.is_closed():
            return await super().send(channel, message)
        future = asyncio.run_coroutine_threadsafe(InMemoryChannelLayer.send(self, channel, message), owner)
        return await asyncio.wrap_future(future)

    async def group_discard(self, group, channel):
        await super().group_discard(group, channel)
        if not any(channel in members for members in self.groups.values()):
            self._owners.pop(channel, None)


# --- What a websocket joins ---------------------------------------------------
# Apps register providers instead of the consumer importing every app:
# a group provider returns the groups a user joins on connect; a snapshot
# provider adds its part of the state sent right after connecting; a
# subscription check decides whether a user may join ``<prefix>-<id>`` on
# request (e.g. a supervisor opening one queue's board).

_group_providers: list = []
_snapshot_providers: list = []
_subscription_checks: dict = {}


def register_group_provider(fn):
    _group_providers.append(fn)
    return fn


def register_snapshot_provider(fn):
    _snapshot_providers.append(fn)
    return fn


def register_subscription_check(prefix: str):
    def decorator(fn):
        _subscription_checks[prefix] = fn
        return fn

    return decorator


def groups_for(user) -> set[str]:
    from apps.core.roles import Role, user_can

    groups = {user_group(user.pk)}
    if user_can(user, Role.SUPERVISOR):
        groups.add(SUPERVISORS)
    for provider in _group_providers:
        groups.update(provider(user))
    return groups


def snapshot_for(user) -> dict:
    snapshot: dict = {}
    for provider in _snapshot_providers:
        snapshot.update(provider(user))
    return json.loads(json.dumps(snapshot, cls=DjangoJSONEncoder))


def may_subscribe(user, group: str) -> bool:
    prefix, _, ident = group.rpartition("-")
    check = _subscription_checks.get(prefix)
    return bool(check and ident.isdigit() and check(user, int(ident)))
