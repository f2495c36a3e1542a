"""Outbound legs: destination modes, AMD, bridges and transfers."""

from __future__ import annotations

import time

import pytest

from .conftest import event_types, wait_event

AGENT = "sip:alice@sandbox.telnyx"


def dial(api, to: str, **extra) -> dict:
    body = {"to": to, "from": "+13125550100", "connection_id": "sandbox-connection", **extra}
    response = api.post("/calls", json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_dial_answers_the_call_object(control, api):
    data = dial(api, "+13125550150", client_state="ZGlhbA==")

    assert data["record_type"] == "call" and data["is_alive"] is True
    assert data["call_control_id"] and data["call_leg_id"] and data["call_session_id"]
    assert data["client_state"] == "ZGlhbA=="


def test_an_unknown_destination_answers_by_itself(control, api):
    ccid = dial(api, "+13125550151")["call_control_id"]

    wait_event(control, ccid, "call.answered")
    assert event_types(control, ccid) == ["call.initiated", "call.answered"]
    initiated = control.events(call_control_id=ccid, event_type="call.initiated")[0]["payload"]
    assert (initiated["direction"], initiated["state"]) == ("outgoing", "bridging")


def test_a_destination_that_never_answers_rings_until_the_timeout(control, api):
    control.set_destinations({AGENT: {"answer": "never"}})
    started = time.monotonic()
    ccid = dial(api, AGENT, timeout_secs=10)["call_control_id"]

    hangup = wait_event(control, ccid, "call.hangup")["payload"]
    assert hangup["hangup_cause"] == "timeout"
    assert time.monotonic() - started >= 10 * 0.05 * 0.9  # the ring timeout, time-scaled
    assert "call.answered" not in event_types(control, ccid)


@pytest.mark.parametrize(("mode", "cause"), [("busy", "user_busy"), ("reject", "call_rejected")])
def test_a_busy_or_rejecting_destination_hangs_up_with_its_cause(control, api, mode, cause):
    control.set_destinations({"+13125550152": {"answer": mode, "ring_ms": 200}})
    ccid = dial(api, "+13125550152")["call_control_id"]

    hangup = wait_event(control, ccid, "call.hangup")["payload"]
    assert (hangup["hangup_cause"], hangup["hangup_source"]) == (cause, "callee")


def test_a_manual_destination_rings_until_the_control_api_answers(control, api):
    control.set_destinations({AGENT: {"answer": "manual"}})
    ccid = dial(api, AGENT)["call_control_id"]
    time.sleep(0.2)
    assert control.call(ccid)["state"] == "ringing"

    control.answer(ccid)

    wait_event(control, ccid, "call.answered")
    assert control.call(ccid)["state"] == "answered"


def test_the_app_cancelling_a_ringing_dial_is_originator_cancel(control, api):
    control.set_destinations({AGENT: {"answer": "manual"}})
    ccid = dial(api, AGENT)["call_control_id"]
    api.post(f"/calls/{ccid}/actions/hangup", json={})

    hangup = wait_event(control, ccid, "call.hangup")["payload"]
    assert (hangup["hangup_cause"], hangup["hangup_source"]) == ("originator_cancel", "caller")


def test_dial_webhook_url_sends_that_legs_webhooks_elsewhere(control, api, receiver):
    other = receiver.url + "?leg=campaign"
    ccid = dial(api, "+13125550153", webhook_url=other)["call_control_id"]

    answered = receiver.wait_for("call.answered", ccid)[0]
    assert answered["delivered_to"] == other


def test_amd_detect_beep_reports_a_machine_then_the_beep(control, api):
    control.set_amd({"+13125550154": {"result": "machine", "greeting_ms": 2000, "beep": True}})
    ccid = dial(api, "+13125550154", answering_machine_detection="detect_beep")["call_control_id"]

    greeting = wait_event(control, ccid, "call.machine.greeting.ended")["payload"]
    detection = wait_event(control, ccid, "call.machine.detection.ended")["payload"]
    assert detection["result"] == "machine" and greeting["result"] == "beep_detected"
    assert event_types(control, ccid) == [
        "call.initiated",
        "call.answered",
        "call.machine.detection.ended",
        "call.machine.greeting.ended",
    ]


def test_amd_defaults_to_a_human(control, api):
    ccid = dial(api, "+13125550155", answering_machine_detection="detect")["call_control_id"]
    assert wait_event(control, ccid, "call.machine.detection.ended")["payload"]["result"] == "human"


@pytest.mark.parametrize(
    ("result", "premium"),
    [
        ("human", "human_residence"),
        ("machine", "machine"),
        ("fax", "fax_detected"),
        ("silence", "silence"),
        ("not_sure", "not_sure"),
    ],
)
def test_premium_amd_reports_the_premium_results(control, api, result, premium):
    control.set_amd({"+13125550156": {"result": result, "beep": True}})
    ccid = dial(api, "+13125550156", answering_machine_detection="premium")["call_control_id"]

    assert (
        wait_event(control, ccid, "call.machine.premium.detection.ended")["payload"]["result"]
        == premium
    )
    if result in ("machine", "fax"):
        greeting = wait_event(control, ccid, "call.machine.premium.greeting.ended")["payload"]
        assert greeting["result"] == "beep_detected"


def test_greeting_end_mode_reports_the_end_of_the_greeting(control, api):
    control.set_amd({"+13125550157": {"result": "machine", "beep": False}})
    ccid = dial(api, "+13125550157", answering_machine_detection="greeting_end")["call_control_id"]
    assert wait_event(control, ccid, "call.machine.greeting.ended")["payload"]["result"] == "ended"


def test_record_from_answer_on_dial_returns_the_recording_id(control, api):
    data = dial(api, "+13125550158", record="record-from-answer", record_format="wav")
    ccid = data["call_control_id"]
    wait_event(control, ccid, "call.answered")
    api.post(f"/calls/{ccid}/actions/hangup", json={})

    saved = wait_event(control, ccid, "call.recording.saved")["payload"]
    assert saved["recording_id"] == data["recording_id"]


def test_bridge_sends_call_bridged_for_both_legs(control, api, inbound_call):
    caller = inbound_call()
    agent = dial(api, AGENT)["call_control_id"]
    wait_event(control, agent, "call.answered")

    assert (
        api.post(f"/calls/{caller}/actions/bridge", json={"call_control_id": agent}).status_code
        == 200
    )

    wait_event(control, caller, "call.bridged")
    wait_event(control, agent, "call.bridged")
    assert control.call(caller)["bridged_with"] == agent
    assert control.call(agent)["hearing"]["parties"] == [caller]


def test_when_one_bridged_leg_hangs_up_the_other_goes_down_too(control, api, inbound_call):
    caller = inbound_call()
    agent = dial(api, AGENT)["call_control_id"]
    wait_event(control, agent, "call.answered")
    api.post(f"/calls/{caller}/actions/bridge", json={"call_control_id": agent})

    control.hangup(caller)

    assert wait_event(control, agent, "call.hangup")["payload"]["hangup_cause"] == "normal_clearing"


def test_a_leg_bridged_with_park_after_unbridge_self_stays_parked(control, api, inbound_call):
    caller = inbound_call()
    agent = dial(api, AGENT)["call_control_id"]
    wait_event(control, agent, "call.answered")
    api.post(f"/calls/{agent}/actions/bridge", json={"call_control_id": caller, "park_after_unbridge": "self"})

    control.hangup(caller)

    wait_event(control, caller, "call.hangup")
    time.sleep(0.1)
    agent_leg = control.call(agent)
    assert agent_leg["alive"] and agent_leg["bridged_with"] is None


def test_with_unbridge_behavior_park_the_peer_stays_up(control, api, inbound_call):
    control.update_config(unbridge_behavior="park")
    caller = inbound_call()
    agent = dial(api, AGENT)["call_control_id"]
    wait_event(control, agent, "call.answered")
    api.post(f"/calls/{caller}/actions/bridge", json={"call_control_id": agent})

    control.hangup(caller)

    wait_event(control, caller, "call.hangup")
    time.sleep(0.1)
    assert control.call(agent)["alive"]
    control.update_config(unbridge_behavior="hangup")


def test_bridging_with_an_ended_call_does_not_claim_this_call_ended(control, api, inbound_call):
    caller, gone = inbound_call(), inbound_call(from_="+13125550113")
    control.hangup(gone)
    response = api.post(f"/calls/{caller}/actions/bridge", json={"call_control_id": gone})
    assert response.status_code == 422 and response.json()["errors"][0]["code"] != "90018"


def test_transfer_creates_a_bridged_leg_in_the_same_session(control, api, inbound_call):
    caller = inbound_call()
    api.post(
        f"/calls/{caller}/actions/transfer",
        json={"to": "+13125550159", "target_leg_client_state": "dHg="},
    )

    new_leg = control.wait_for_call(
        lambda c: c["direction"] == "outgoing" and c["state"] == "answered"
    )
    assert new_leg["call_session_id"] == control.call(caller)["call_session_id"]
    assert event_types(control, new_leg["call_control_id"]) == [
        "call.initiated",
        "call.bridged",
        "call.answered",
    ]
    assert "call.bridged" in event_types(control, caller)
    assert new_leg["client_state"] == "dHg="


def test_legs_joined_by_a_transfer_hang_up_together(control, api, inbound_call):
    caller = inbound_call()
    api.post(f"/calls/{caller}/actions/transfer", json={"to": "+13125550160"})
    forwarded = control.wait_for_call(
        lambda c: c["direction"] == "outgoing" and c["state"] == "answered"
    )

    control.hangup(forwarded["call_control_id"])

    assert (
        wait_event(control, caller, "call.hangup")["payload"]["hangup_cause"] == "normal_clearing"
    )


def test_a_transfer_to_a_busy_number_leaves_the_caller_up(control, api, inbound_call):
    control.set_destinations({"+13125550161": {"answer": "busy", "ring_ms": 100}})
    caller = inbound_call()
    api.post(f"/calls/{caller}/actions/transfer", json={"to": "+13125550161"})

    forwarded = control.wait_for_call(
        lambda c: c["direction"] == "outgoing" and c["state"] == "ended"
    )
    assert forwarded["hangup_cause"] == "user_busy"
    assert control.call(caller)["alive"]


def test_a_wildcard_destination_sets_the_default(control, api):
    control.set_destinations({"*": {"answer": "busy", "ring_ms": 100}})
    ccid = dial(api, "+13125550162")["call_control_id"]
    assert wait_event(control, ccid, "call.hangup")["payload"]["hangup_cause"] == "user_busy"


def test_a_dialled_party_can_press_keys_by_script(control, api):
    control.set_destinations({AGENT: {"answer": "auto", "dtmf_script": ["1"]}})
    ccid = dial(api, AGENT)["call_control_id"]
    wait_event(control, ccid, "call.answered")
    api.post(
        f"/calls/{ccid}/actions/gather_using_speak",
        json={"payload": "Press 1 to accept", "voice": "female", "maximum_digits": 1},
    )

    assert wait_event(control, ccid, "call.gather.ended")["payload"]["digits"] == "1"
