"""The live websocket: refused without login, pushes call updates with it."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from apps.calls.services import call_apply_event, call_for_event
from apps.core.consumers import CLOSE_FORBIDDEN, CLOSE_RECHECK, CLOSE_UNAUTHENTICATED
from apps.telnyx.events import parse_event
from tests.live import live_socket
from tests.telnyx_webhooks import call_event

pytestmark = pytest.mark.django_db(transaction=True)


_communicator = live_socket


def _apply(body):
    from django.db import transaction

    with transaction.atomic():
        event = parse_event(body)
        call = call_for_event(event)
        call_apply_event(call=call, event=event)


def test_a_socket_without_login_is_refused():
    async def scenario():
        communicator = _communicator()
        connected, code = await communicator.connect()
        assert not connected
        assert code == CLOSE_UNAUTHENTICATED

    async_to_sync(scenario)()


def test_a_user_without_a_role_is_refused(client, outsider):
    client.force_login(outsider)

    async def scenario():
        connected, code = await _communicator(client).connect()
        assert (connected, code) == (False, CLOSE_FORBIDDEN)

    async_to_sync(scenario)()


def test_a_supervisor_gets_a_snapshot_then_a_pushed_call_update(client, supervisor_user):
    client.force_login(supervisor_user)
    _apply(call_event("call.initiated", "v3:already-ringing"))

    async def scenario():
        communicator = _communicator(client)
        connected, _ = await communicator.connect()
        assert connected
        hello = await communicator.receive_json_from(timeout=5)
        assert hello["type"] == "hello"
        assert [c["call_control_id"] for c in hello["calls"]] == ["v3:already-ringing"]

        await sync_to_async(_apply)(call_event("call.answered", "v3:already-ringing"))
        update = await communicator.receive_json_from(timeout=5)
        assert update["type"] == "call.updated"
        assert update["call"]["call_control_id"] == "v3:already-ringing"
        assert update["call"]["status"] == "answered"
        assert update["version"] == hello["calls"][0]["version"] + 1
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_an_agent_does_not_receive_supervisor_call_updates(client, agent_user):
    client.force_login(agent_user)

    async def scenario():
        communicator = _communicator(client)
        connected, _ = await communicator.connect()
        assert connected
        hello = await communicator.receive_json_from(timeout=5)
        assert "calls" not in hello
        await sync_to_async(_apply)(call_event("call.initiated", "v3:not-yours"))
        assert await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_a_subscription_to_an_unknown_group_is_refused(client, supervisor_user):
    client.force_login(supervisor_user)

    async def scenario():
        communicator = _communicator(client)
        await communicator.connect()
        await communicator.receive_json_from(timeout=5)
        await communicator.send_json_to({"action": "subscribe", "group": "agent-999"})
        assert await communicator.receive_json_from(timeout=5) == {"type": "refused", "group": "agent-999"}
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_a_burst_of_changes_reaches_the_socket_complete_and_in_order(client, supervisor_user):
    """Sends to a group are gathered under load; every message still arrives, each as its own frame, in order."""
    client.force_login(supervisor_user)

    def burst():
        for n in range(12):
            ccid = f"v3:burst-{n}"
            _apply(call_event("call.initiated", ccid))
            _apply(call_event("call.answered", ccid))
            _apply(call_event("call.hangup", ccid, hangup_cause="normal_clearing", hangup_source="caller"))

    async def scenario():
        communicator = _communicator(client)
        await communicator.connect()
        await communicator.receive_json_from(timeout=5)
        await sync_to_async(burst)()
        received = [await communicator.receive_json_from(timeout=5) for _ in range(36)]
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
        return received

    received = async_to_sync(scenario)()
    seen = [(m["call"]["call_control_id"], m["call"]["status"]) for m in received]
    assert seen == [(f"v3:burst-{n}", status) for n in range(12) for status in ("initiated", "answered", "ended")]


def test_a_supervisor_demoted_while_watching_stops_receiving_call_updates(client, supervisor_user):
    from django.contrib.auth.models import Group

    client.force_login(supervisor_user)

    async def scenario():
        communicator = _communicator(client)
        assert (await communicator.connect())[0]
        await communicator.receive_json_from(timeout=5)
        # An admin moves them to the agent role: the open socket is closed ...
        await sync_to_async(lambda: supervisor_user.groups.set([Group.objects.get(name="agent")]))()
        assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_RECHECK}

        # ... and the browser's reconnect is decided by the role they hold now.
        again = _communicator(client)
        assert (await again.connect())[0]
        hello = await again.receive_json_from(timeout=5)
        assert hello["roles"] == ["agent"] and "calls" not in hello
        await sync_to_async(_apply)(call_event("call.initiated", "v3:no-longer-theirs"))
        assert await again.receive_nothing(timeout=0.5)
        await again.disconnect()

    async_to_sync(scenario)()


def test_logging_out_closes_the_open_socket_and_a_reconnect_is_refused(client, supervisor_user):
    client.force_login(supervisor_user)
    session_client = client

    async def scenario():
        communicator = _communicator(session_client)
        assert (await communicator.connect())[0]
        await communicator.receive_json_from(timeout=5)
        cookie_holder = _communicator(session_client)  # the cookie, before logout forgets it
        await sync_to_async(session_client.post)("/logout/")
        assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_RECHECK}
        assert await cookie_holder.connect() == (False, CLOSE_UNAUTHENTICATED)

    async_to_sync(scenario)()
