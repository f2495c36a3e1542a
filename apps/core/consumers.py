"""The one websocket browsers keep open for live updates."""

import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.core import realtime
from apps.core.roles import user_roles

# Close codes in the 4000 range are ours (RFC 6455 leaves them to applications).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_RECHECK = 4000  # reconnect: the server decides afresh what this user may see


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Pushes call, agent and queue changes to a logged-in user.

    On connect it joins the groups the user's roles allow and sends a
    ``hello`` with a snapshot; after that only versioned deltas arrive.
    Anonymous sockets are refused before the handshake completes.
    """

    async def connect(self):
        self.connected_at = time.time()  # before roles and groups are read: see live_push
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        roles, groups, snapshot = await database_sync_to_async(self._initial_state)(user)
        if not roles:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.joined = set()
        for group in groups:
            await self._join(group)
        await self.accept()
        await self.send_json({"type": "hello", "user": user.get_username(), "roles": sorted(roles), **snapshot})

    async def disconnect(self, code):
        for group in getattr(self, "joined", set()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        """Clients may subscribe to extra groups (checked) and ping."""
        action = content.get("action")
        group = str(content.get("group", ""))
        if action == "subscribe":
            allowed = await database_sync_to_async(realtime.may_subscribe)(self.scope["user"], group)
            if allowed:
                await self._join(group)
            await self.send_json({"type": "subscribed" if allowed else "refused", "group": group})
        elif action == "unsubscribe" and group in self.joined:
            self.joined.discard(group)
            await self.channel_layer.group_discard(group, self.channel_name)
        elif action == "ping":
            await self.send_json({"type": "pong"})

    async def live_push(self, event):
        """Forward the messages published with ``realtime.publish_on_commit``, one frame each, in order."""
        for message in event["messages"]:
            if message.get("type") == realtime.RECHECK:
                if message["changed_at"] >= self.connected_at:
                    await self.close(code=CLOSE_RECHECK)
                    return
                continue
            await self.send_json(message)

    async def _join(self, group):
        self.joined.add(group)
        await self.channel_layer.group_add(group, self.channel_name)

    @staticmethod
    def _initial_state(user):
        roles = user_roles(user)
        if not roles:
            return roles, set(), {}
        return roles, realtime.groups_for(user), realtime.snapshot_for(user)
