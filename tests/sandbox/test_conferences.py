"""Conferences: lifecycle webhooks, supervisor roles and who hears whom."""

from __future__ import annotations

from .conftest import wait_event


def create(api, ccid: str, name: str = "room-1", **extra) -> dict:
    response = api.post("/conferences", json={"call_control_id": ccid, "name": name, **extra})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def join(api, conference_id: str, ccid: str, **extra):
    response = api.post(
        f"/conferences/{conference_id}/actions/join", json={"call_control_id": ccid, **extra}
    )
    assert response.status_code == 200, response.text


def test_creating_a_conference_makes_its_first_participant_join(control, api, inbound_call):
    caller = inbound_call()

    conference = create(api, caller, beep_enabled="always")

    assert conference["record_type"] == "conference" and conference["status"] == "in_progress"
    created = wait_event(control, caller, "conference.created")["payload"]
    joined = wait_event(control, caller, "conference.participant.joined")["payload"]
    assert created["conference_id"] == joined["conference_id"] == conference["id"]
    listed = api.get(f"/conferences/{conference['id']}/participants").json()["data"]
    assert [p["call_control_id"] for p in listed] == [caller]


def test_a_whispering_supervisor_is_heard_by_the_agent_only(control, api, inbound_call):
    caller, agent, supervisor = (inbound_call(from_=f"+1312555012{i}") for i in range(3))
    conference = create(api, caller)
    join(api, conference["id"], agent)
    join(
        api,
        conference["id"],
        supervisor,
        supervisor_role="whisper",
        whisper_call_control_ids=[agent],
    )

    hears = control.conference(conference["id"])["hears"]

    assert set(hears[supervisor]) == {caller, agent}  # the supervisor hears both
    assert set(hears[agent]) == {caller, supervisor}
    assert hears[caller] == [agent]  # the caller does not hear the whisper
    assert control.call(caller)["hearing"]["parties"] == [agent]
    assert control.call(supervisor)["conference"]["supervisor_role"] == "whisper"


def test_a_monitor_hears_everyone_and_nobody_hears_the_monitor(control, api, inbound_call):
    caller, agent, supervisor = (inbound_call(from_=f"+1312555013{i}") for i in range(3))
    conference = create(api, caller)
    join(api, conference["id"], agent)
    join(api, conference["id"], supervisor, supervisor_role="monitor")

    hears = control.conference(conference["id"])["hears"]
    assert set(hears[supervisor]) == {caller, agent}
    assert supervisor not in hears[caller] + hears[agent]


def test_update_switches_a_monitor_to_barge(control, api, inbound_call):
    caller, supervisor = inbound_call(), inbound_call(from_="+13125550140")
    conference = create(api, caller)
    join(api, conference["id"], supervisor, supervisor_role="monitor")

    api.post(
        f"/conferences/{conference['id']}/actions/update",
        json={"call_control_id": supervisor, "supervisor_role": "barge"},
    )

    assert supervisor in control.conference(conference["id"])["hears"][caller]


def test_held_and_muted_participants_are_not_heard(control, api, inbound_call):
    caller, agent = inbound_call(), inbound_call(from_="+13125550141")
    conference = create(api, caller)
    join(api, conference["id"], agent)

    api.post(f"/conferences/{conference['id']}/actions/mute", json={"call_control_ids": [agent]})
    assert control.conference(conference["id"])["hears"][caller] == []
    api.post(f"/conferences/{conference['id']}/actions/unmute", json={"call_control_ids": [agent]})
    api.post(f"/conferences/{conference['id']}/actions/hold", json={"call_control_ids": [caller]})
    hears = control.conference(conference["id"])["hears"]
    assert hears[caller] == [] and hears[agent] == []


def test_the_conference_ends_when_the_last_participant_leaves(control, api, inbound_call):
    caller, agent = inbound_call(), inbound_call(from_="+13125550142")
    conference = create(api, caller, name="by-name")
    join(api, "by-name", agent)  # the spec lets join name the conference

    control.hangup(agent)
    wait_event(control, agent, "conference.participant.left")
    api.post(f"/conferences/{conference['id']}/actions/leave", json={"call_control_id": caller})

    ended = wait_event(control, caller, "conference.ended")["payload"]
    assert ended["reason"] == "all_left"
    assert control.call(caller)["alive"]  # leaving does not hang up
    assert api.get(f"/conferences/{conference['id']}").json()["data"]["status"] == "completed"


def test_end_conference_on_exit_hangs_up_the_others(control, api, inbound_call):
    caller, agent = inbound_call(), inbound_call(from_="+13125550143")
    conference = create(api, caller)
    join(api, conference["id"], agent, end_conference_on_exit=True)

    control.hangup(agent)

    assert (
        wait_event(control, caller, "call.hangup")["payload"]["hangup_cause"] == "normal_clearing"
    )
    events = control.events(event_type="conference.ended")
    assert events and events[0]["payload"]["reason"] == "host_left"


def test_commands_to_an_ended_conference_get_90019(control, api, inbound_call):
    caller = inbound_call()
    conference = create(api, caller)
    api.post(f"/conferences/{conference['id']}/actions/end", json={})

    response = api.post(
        f"/conferences/{conference['id']}/actions/join", json={"call_control_id": caller}
    )
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "90019"


def test_speaking_to_the_conference_sends_conference_speak_events(control, api, inbound_call):
    caller = inbound_call()
    conference = create(api, caller)
    api.post(
        f"/conferences/{conference['id']}/actions/speak",
        json={"payload": "Welcome", "voice": "female"},
    )

    control.wait_for(lambda: control.events(event_type="conference.speak.ended"))
    assert control.events(event_type="conference.speak.started")


def test_an_unknown_conference_is_404(control, api):
    assert api.get("/conferences/9b7c0e5e-1d4b-4f7e-9a51-3c1f0a1b2c3d").status_code == 404
