"""Call queues: enqueue, positions, leaving for every reason, bridging from a queue."""

from __future__ import annotations

from .conftest import event_types, wait_event


def enqueue(api, ccid: str, **extra) -> None:
    response = api.post(f"/calls/{ccid}/actions/enqueue", json={"queue_name": "support", **extra})
    assert response.status_code == 200, response.text


def test_enqueued_calls_learn_their_position(control, api, inbound_call):
    first, second = inbound_call(), inbound_call(from_="+13125550112")
    enqueue(api, first)
    enqueue(api, second)

    positions = [wait_event(control, c, "call.enqueued")["payload"] for c in (first, second)]
    assert [p["current_position"] for p in positions] == [1, 2]
    assert positions[0]["queue"] == "support" and "queue_avg_wait_time_secs" in positions[0]
    queue = api.get("/queues/support").json()["data"]
    assert queue["current_size"] == 2 and queue["name"] == "support"
    listed = api.get("/queues/support/calls").json()
    assert [c["call_control_id"] for c in listed["data"]] == [first, second]
    assert listed["data"][1]["queue_position"] == 2


def test_leave_queue_dequeues_with_reason_leave(control, api, inbound_call):
    ccid = inbound_call()
    enqueue(api, ccid)
    api.post(f"/calls/{ccid}/actions/leave_queue", json={})

    dequeued = wait_event(control, ccid, "call.dequeued")["payload"]
    assert dequeued["reason"] == "leave" and dequeued["queue"] == "support"
    assert control.call(ccid)["alive"] and control.call(ccid)["queue"] is None


def test_max_wait_time_dequeues_with_reason_timeout_and_keeps_the_call(control, api, inbound_call):
    ccid = inbound_call()
    enqueue(api, ccid, max_wait_time_secs=2)

    assert wait_event(control, ccid, "call.dequeued")["payload"]["reason"] == "timeout"
    assert control.call(ccid)["state"] == "answered"


def test_hanging_up_in_the_queue_dequeues_before_the_hangup(control, api, inbound_call):
    ccid = inbound_call()
    enqueue(api, ccid)
    control.hangup(ccid)

    wait_event(control, ccid, "call.hangup")
    assert wait_event(control, ccid, "call.dequeued")["payload"]["reason"] == "hangup"
    types = event_types(control, ccid)
    assert types.index("call.dequeued") < types.index("call.hangup")


def test_bridging_an_agent_with_the_queue_takes_the_first_caller(control, api, inbound_call):
    first, second = inbound_call(), inbound_call(from_="+13125550112")
    enqueue(api, first)
    enqueue(api, second)
    agent = control.place_call("+13125550190", "+13125550100")["call_control_id"]
    api.post(f"/calls/{agent}/actions/answer", json={})

    assert api.post(f"/calls/{agent}/actions/bridge", json={"queue": "support"}).status_code == 200

    assert wait_event(control, first, "call.dequeued")["payload"]["reason"] == "bridged"
    assert control.call(agent)["bridged_with"] == first
    assert api.get("/queues/support").json()["data"]["current_size"] == 1


def test_bridging_with_an_empty_queue_fails(control, api, inbound_call):
    agent = inbound_call()
    enqueue(api, inbound_call(from_="+13125550112"))
    api.post(f"/calls/{agent}/actions/bridge", json={"queue": "support"})

    response = api.post(f"/calls/{agent}/actions/bridge", json={"queue": "support"})
    assert response.status_code == 422


def test_enqueueing_twice_into_the_same_queue_is_refused(control, api, inbound_call):
    ccid = inbound_call()
    enqueue(api, ccid)
    response = api.post(f"/calls/{ccid}/actions/enqueue", json={"queue_name": "support"})
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "90038"


def test_a_full_queue_refuses_callers(control, api, inbound_call):
    enqueue(api, inbound_call(), max_size=1)
    response = api.post(
        f"/calls/{inbound_call(from_='+13125550112')}/actions/enqueue",
        json={"queue_name": "support"},
    )
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "90036"


def test_an_unknown_queue_is_404(control, api):
    assert api.get("/queues/nobody").status_code == 404
