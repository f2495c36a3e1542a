"""Inbound calls, commands and their webhooks, command ids and errors."""

from __future__ import annotations

import time

import httpx

from .conftest import event_types, wait_event


def test_it_sends_a_signed_call_initiated_for_an_inbound_call(control, receiver):
    call = control.place_call("+13125550111", "+13125550100", caller_name="Ada Lovelace")

    delivery = receiver.wait_for("call.initiated", call["call_control_id"])[0]
    assert delivery["verified"]
    assert delivery["attempt"] == 1 and delivery["delivered_to"] == receiver.url
    assert delivery["headers"]["User-Agent"] == "telnyx-webhooks"
    assert delivery["headers"]["Content-Type"] == "application/json"
    payload = delivery["payload"]
    assert payload["direction"] == "incoming" and payload["state"] == "parked"
    assert payload["from"] == "+13125550111" and payload["to"] == "+13125550100"
    assert payload["caller_id_name"] == "Ada Lovelace"
    assert payload["call_control_id"] == call["call_control_id"]
    assert payload["call_leg_id"] and payload["call_session_id"]


def test_it_refuses_requests_without_an_api_key(control, telnyx_sandbox):
    response = httpx.post(f"{telnyx_sandbox.api_base_url}/calls", json={})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "10009"


def test_answer_sends_call_answered_carrying_the_client_state(control, api, receiver):
    ccid = control.place_call("+13125550111", "+13125550100")["call_control_id"]

    response = api.post(f"/calls/{ccid}/actions/answer", json={"client_state": "c3RlcDE="})

    assert response.json() == {"data": {"result": "ok"}}
    answered = receiver.wait_for("call.answered", ccid)[0]
    assert answered["payload"]["client_state"] == "c3RlcDE="
    assert control.call(ccid)["state"] == "answered"


def test_client_state_rides_on_later_webhooks_until_replaced(control, api, inbound_call):
    ccid = inbound_call()
    api.put(f"/calls/{ccid}/actions/client_state_update", json={"client_state": "b25l"})
    api.post(f"/calls/{ccid}/actions/speak", json={"payload": "Hi", "voice": "female"})

    ended = wait_event(control, ccid, "call.speak.ended")
    assert ended["payload"]["client_state"] == "b25l"


def test_gather_using_speak_collects_the_callers_scripted_digits(control, api, inbound_call):
    ccid = inbound_call(dtmf_script=["42#"])

    api.post(
        f"/calls/{ccid}/actions/gather_using_speak",
        json={
            "payload": "Enter your code",
            "voice": "female",
            "maximum_digits": 5,
            "client_state": "Z2F0aGVy",
        },
    )

    ended = wait_event(control, ccid, "call.gather.ended")
    assert ended["payload"]["digits"] == "42"
    assert ended["payload"]["status"] == "valid"
    assert ended["payload"]["client_state"] == "Z2F0aGVy"
    digits = [
        e["payload"]["digit"]
        for e in control.events(call_control_id=ccid, event_type="call.dtmf.received")
    ]
    assert digits == ["4", "2", "#"]
    types = event_types(control, ccid)
    assert types.index("call.dtmf.received") < types.index("call.gather.ended")


def test_gather_stops_at_maximum_digits(control, api, inbound_call):
    ccid = inbound_call(dtmf_script=["1234"])
    api.post(
        f"/calls/{ccid}/actions/gather_using_speak",
        json={"payload": "Two digits", "voice": "female", "maximum_digits": 2},
    )

    ended = wait_event(control, ccid, "call.gather.ended")["payload"]
    assert (ended["digits"], ended["status"]) == ("12", "valid")


def test_gather_times_out_when_the_caller_stays_silent(control, api, inbound_call):
    ccid = inbound_call()
    api.post(
        f"/calls/{ccid}/actions/gather_using_speak",
        json={
            "payload": "Anyone there?",
            "voice": "female",
            "timeout_millis": 1000,
            "maximum_tries": 1,
        },
    )

    ended = wait_event(control, ccid, "call.gather.ended")
    assert ended["payload"]["status"] == "timeout"
    assert ended["payload"]["digits"] == ""


def test_gather_reports_digits_outside_valid_digits_as_invalid(control, api, inbound_call):
    ccid = inbound_call(dtmf_script=["9#"])
    api.post(
        f"/calls/{ccid}/actions/gather_using_speak",
        json={
            "payload": "Press 1 to 3",
            "voice": "female",
            "valid_digits": "123",
            "maximum_tries": 1,
        },
    )

    ended = wait_event(control, ccid, "call.gather.ended")
    assert (ended["payload"]["status"], ended["payload"]["digits"]) == ("invalid", "9")


def test_gather_replays_the_prompt_after_a_timeout_and_uses_the_next_script_entry(
    control, api, inbound_call
):
    ccid = inbound_call(dtmf_script=["", "5#"])
    api.post(
        f"/calls/{ccid}/actions/gather_using_speak",
        json={
            "payload": "Press five",
            "voice": "female",
            "timeout_millis": 1000,
            "maximum_tries": 2,
        },
    )

    ended = wait_event(control, ccid, "call.gather.ended")
    assert (ended["payload"]["status"], ended["payload"]["digits"]) == ("valid", "5")


def test_gather_using_audio_plays_the_prompt_between_playback_events(control, api, inbound_call):
    ccid = inbound_call(dtmf_script=["7#"])
    api.post(
        f"/calls/{ccid}/actions/gather_using_audio",
        json={"audio_url": "https://example.com/menu.mp3", "maximum_tries": 1},
    )

    wait_event(control, ccid, "call.gather.ended")
    types = [t for t in event_types(control, ccid) if t not in ("call.initiated", "call.answered")]
    assert types == [
        "call.playback.started",
        "call.playback.ended",
        "call.dtmf.received",
        "call.dtmf.received",
        "call.gather.ended",
    ]
    started = control.events(call_control_id=ccid, event_type="call.playback.started")[0]
    assert started["payload"]["media_url"] == "https://example.com/menu.mp3"


def test_plain_gather_honours_the_terminating_digit(control, api, inbound_call):
    ccid = inbound_call(dtmf_script=["31*"])
    api.post(
        f"/calls/{ccid}/actions/gather",
        json={"terminating_digit": "*", "initial_timeout_millis": 5000},
    )

    ended = wait_event(control, ccid, "call.gather.ended")
    assert (ended["payload"]["status"], ended["payload"]["digits"]) == ("valid", "31")


def test_gather_stop_ends_the_gather_as_cancelled(control, api, inbound_call):
    ccid = inbound_call()
    api.post(
        f"/calls/{ccid}/actions/gather_using_speak", json={"payload": "Wait", "voice": "female"}
    )
    api.post(f"/calls/{ccid}/actions/gather_stop", json={})

    assert wait_event(control, ccid, "call.gather.ended")["payload"]["status"] == "cancelled"


def test_hanging_up_during_a_gather_ends_it_with_call_hangup(control, api, inbound_call):
    ccid = inbound_call()
    api.post(
        f"/calls/{ccid}/actions/gather_using_speak", json={"payload": "Wait", "voice": "female"}
    )
    control.hangup(ccid)

    assert wait_event(control, ccid, "call.gather.ended")["payload"]["status"] == "call_hangup"
    types = event_types(control, ccid)
    assert types.index("call.gather.ended") < types.index("call.hangup")
    hangup = wait_event(control, ccid, "call.hangup")["payload"]
    assert (hangup["hangup_cause"], hangup["hangup_source"]) == ("normal_clearing", "caller")


def test_keys_pressed_outside_a_gather_still_give_dtmf_received(control, inbound_call):
    ccid = inbound_call()
    control.press(ccid, "5")

    assert wait_event(control, ccid, "call.dtmf.received")["payload"]["digit"] == "5"


def test_speak_sends_started_then_ended(control, api, inbound_call):
    ccid = inbound_call()
    api.post(f"/calls/{ccid}/actions/speak", json={"payload": "Hello there", "voice": "female"})

    ended = wait_event(control, ccid, "call.speak.ended")
    assert ended["payload"]["status"] == "completed"
    assert event_types(control, ccid)[-2:] == ["call.speak.started", "call.speak.ended"]


HOLD = {"audio_url": "https://example.com/hold.mp3", "loop": "infinity"}


def _speak(api, ccid, text, **extra):
    body = {"payload": text, "voice": "female", **extra}
    assert api.post(f"/calls/{ccid}/actions/speak", json=body).status_code == 200


def test_a_speak_sent_during_endless_hold_audio_waits_behind_it(control, api, inbound_call):
    ccid = inbound_call()
    api.post(f"/calls/{ccid}/actions/playback_start", json=HOLD)
    _speak(api, ccid, "You are number 2 in line")

    time.sleep(0.4)  # many times the speech's length (x0.05)
    hearing = control.call(ccid)["hearing"]
    assert hearing["media"]["url"] == HOLD["audio_url"]
    assert [m["text"] for m in hearing["waiting_media"]] == ["You are number 2 in line"]
    assert "call.speak.started" not in event_types(control, ccid)

    # Stopping the current audio only lets the next one in line play.
    api.post(f"/calls/{ccid}/actions/playback_stop", json={"stop": "current"})
    wait_event(control, ccid, "call.speak.ended")
    assert event_types(control, ccid)[-4:] == [
        "call.playback.started", "call.playback.ended", "call.speak.started", "call.speak.ended"]
    assert control.events(call_control_id=ccid, event_type="call.playback.ended")[0]["payload"]["status"] == "cancelled"


def test_a_speak_with_stop_all_cuts_the_hold_audio_and_drops_what_waited(control, api, inbound_call):
    ccid = inbound_call()
    api.post(f"/calls/{ccid}/actions/playback_start", json=HOLD)
    _speak(api, ccid, "Never heard")
    _speak(api, ccid, "An agent is coming", stop="all")

    assert control.call(ccid)["hearing"]["media"]["text"] == "An agent is coming"
    wait_event(control, ccid, "call.speak.ended")
    time.sleep(0.3)
    assert event_types(control, ccid)[-4:] == [
        "call.playback.started", "call.playback.ended", "call.speak.started", "call.speak.ended"]
    assert control.call(ccid)["hearing"]["media"] is None


def test_a_speak_with_stop_current_plays_after_what_was_already_waiting(control, api, inbound_call):
    ccid = inbound_call()
    api.post(f"/calls/{ccid}/actions/playback_start", json=HOLD)
    _speak(api, ccid, "First", client_state="Zmlyc3Q=")
    _speak(api, ccid, "Second", stop="current", client_state="c2Vjb25k")

    control.wait_for(lambda: len(control.events(call_control_id=ccid, event_type="call.speak.ended")) == 2)
    spoken = [(e["event_type"], e["payload"]["client_state"])
              for e in control.events(call_control_id=ccid) if e["event_type"].startswith("call.speak")]
    # Each waiting speak's events carry the client_state of the command that sent it.
    assert spoken == [("call.speak.started", "Zmlyc3Q="), ("call.speak.ended", "Zmlyc3Q="),
                      ("call.speak.started", "c2Vjb25k"), ("call.speak.ended", "c2Vjb25k")]


def test_consecutive_speaks_play_one_after_the_other(control, api, inbound_call):
    ccid = inbound_call()
    _speak(api, ccid, "One")
    _speak(api, ccid, "Two")

    control.wait_for(lambda: len(control.events(call_control_id=ccid, event_type="call.speak.ended")) == 2)
    assert event_types(control, ccid)[-4:] == [
        "call.speak.started", "call.speak.ended", "call.speak.started", "call.speak.ended"]
    assert all(e["payload"]["status"] == "completed"
               for e in control.events(call_control_id=ccid, event_type="call.speak.ended"))


def test_playback_stop_drops_the_audio_waiting_behind_by_default(control, api, inbound_call):
    ccid = inbound_call()
    api.post(f"/calls/{ccid}/actions/playback_start", json=HOLD)
    _speak(api, ccid, "Never heard")
    api.post(f"/calls/{ccid}/actions/playback_stop", json={})

    assert wait_event(control, ccid, "call.playback.ended")["payload"]["status"] == "cancelled"
    time.sleep(0.3)
    assert "call.speak.started" not in event_types(control, ccid)
    hearing = control.call(ccid)["hearing"]
    assert (hearing["media"], hearing["waiting_media"]) == (None, [])


def test_a_stop_field_other_than_current_or_all_is_refused(control, api, inbound_call):
    ccid = inbound_call()
    response = api.post(f"/calls/{ccid}/actions/speak", json={"payload": "Hi", "voice": "female", "stop": "some"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"] == {"pointer": "/stop"}


def test_a_speak_sent_during_a_gather_plays_once_the_gather_ends(control, api, inbound_call):
    ccid = inbound_call()
    api.post(f"/calls/{ccid}/actions/gather_using_speak", json={"payload": "Press 1", "voice": "female"})
    _speak(api, ccid, "One moment")
    time.sleep(0.3)
    assert "call.speak.started" not in event_types(control, ccid)

    api.post(f"/calls/{ccid}/actions/gather_stop", json={})
    wait_event(control, ccid, "call.speak.ended")
    types = event_types(control, ccid)
    assert types.index("call.gather.ended") < types.index("call.speak.started")


def test_a_gather_stops_the_audio_playing_and_drops_what_waited(control, api, inbound_call):
    ccid = inbound_call()
    api.post(f"/calls/{ccid}/actions/playback_start", json=HOLD)
    _speak(api, ccid, "Never heard")
    api.post(f"/calls/{ccid}/actions/gather_using_speak", json={"payload": "Press 1", "voice": "female"})

    assert wait_event(control, ccid, "call.playback.ended")["payload"]["status"] == "cancelled"
    api.post(f"/calls/{ccid}/actions/gather_stop", json={})
    wait_event(control, ccid, "call.gather.ended")
    time.sleep(0.3)
    assert "call.speak.started" not in event_types(control, ccid)


def test_an_endless_playback_plays_until_stopped(control, api, inbound_call):
    ccid = inbound_call()
    api.post(
        f"/calls/{ccid}/actions/playback_start",
        json={"audio_url": "https://example.com/m.mp3", "loop": "infinity"},
    )
    control.wait_for(
        lambda: control.events(call_control_id=ccid, event_type="call.playback.started")
    )
    time.sleep(0.4)  # many times the 3 s (x0.05) length of one play
    assert not control.events(call_control_id=ccid, event_type="call.playback.ended")
    api.post(f"/calls/{ccid}/actions/playback_stop", json={})
    assert wait_event(control, ccid, "call.playback.ended")["payload"]["status"] == "cancelled"


def test_a_repeated_command_id_has_one_effect_and_is_logged_as_deduped(control, api, inbound_call):
    ccid = inbound_call()
    body = {"payload": "Only once", "voice": "female", "command_id": "speak-1"}

    first = api.post(f"/calls/{ccid}/actions/speak", json=body)
    second = api.post(f"/calls/{ccid}/actions/speak", json=body)

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    wait_event(control, ccid, "call.speak.ended")
    assert len(control.events(call_control_id=ccid, event_type="call.speak.started")) == 1
    logged = control.commands(call_control_id=ccid, action="speak")
    assert [entry["deduped"] for entry in logged] == [False, True]


def test_the_same_command_id_on_another_call_is_not_a_duplicate(control, api, inbound_call):
    first, second = inbound_call(), inbound_call(from_="+13125550112")
    for ccid in (first, second):
        api.post(
            f"/calls/{ccid}/actions/speak",
            json={"payload": "Hi", "voice": "female", "command_id": "same"},
        )
    assert all(
        control.events(call_control_id=c, event_type="call.speak.started") for c in (first, second)
    )


def test_the_first_attempts_of_a_command_id_fail_with_500_then_it_succeeds(
    control, api, inbound_call
):
    ccid = inbound_call()
    control.set_faults(command_5xx_first_attempts=2)
    body = {"payload": "Retry me", "voice": "female", "command_id": "retry-1"}

    statuses = [api.post(f"/calls/{ccid}/actions/speak", json=body).status_code for _ in range(4)]

    assert statuses == [500, 500, 200, 200]
    assert len(control.events(call_control_id=ccid, event_type="call.speak.started")) == 1
    logged = control.commands(call_control_id=ccid, action="speak")
    assert [(e["status"], e["deduped"]) for e in logged] == [
        (500, False),
        (500, False),
        (200, False),
        (200, True),
    ]


def test_a_command_id_of_the_wrong_type_gets_422_with_the_validators_reason(
    control, api, inbound_call
):
    ccid = inbound_call()

    response = api.post(f"/calls/{ccid}/actions/hangup", json={"command_id": 5})

    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["code"], error["title"]) == ("10015", "Invalid parameter")
    assert "is not of type 'string'" in error["detail"]
    assert error["source"] == {"pointer": "/command_id"}
    assert control.call(ccid)["alive"]  # no effect
    violations = control.violations(kind="request")
    assert len(violations) == 1 and violations[0]["reason"] == error["detail"]


def test_dial_without_to_is_refused(control, api):
    response = api.post("/calls", json={"from": "+13125550100", "connection_id": "conn"})

    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (
        error["source"] == {"pointer": "/to"} and "'to' is a required property" in error["detail"]
    )
    assert control.calls() == []
    assert control.violations(kind="request")[0]["path"] == "/v2/calls"


def test_a_command_on_an_ended_call_gets_90018(control, api, inbound_call):
    ccid = inbound_call()
    control.hangup(ccid)

    response = api.post(
        f"/calls/{ccid}/actions/speak", json={"payload": "Hello?", "voice": "female"}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "90018"
    assert response.json()["errors"][0]["title"] == "Call has already ended"


def test_a_command_on_an_unknown_call_gets_404(control, api):
    response = api.post("/calls/v3:nope/actions/answer", json={})
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"]


def test_media_commands_need_an_answered_call(control, api, inbound_call):
    ccid = inbound_call(answer=False)
    response = api.post(f"/calls/{ccid}/actions/speak", json={"payload": "Hi", "voice": "female"})
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "90034"


def test_reject_hangs_up_with_call_rejected(control, api, inbound_call):
    ccid = inbound_call(answer=False)
    api.post(f"/calls/{ccid}/actions/reject", json={"cause": "USER_BUSY"})

    hangup = wait_event(control, ccid, "call.hangup")["payload"]
    assert hangup["hangup_cause"] == "user_busy"


def test_get_call_reports_whether_it_is_alive(control, api, inbound_call):
    ccid = inbound_call()
    alive = api.get(f"/calls/{ccid}").json()["data"]
    control.hangup(ccid)
    ended = api.get(f"/calls/{ccid}").json()["data"]

    assert alive["is_alive"] is True and alive["record_type"] == "call"
    assert ended["is_alive"] is False and ended["end_time"]


def test_a_caller_hangs_up_by_script_after_answer(control, inbound_call):
    ccid = inbound_call(hangup_after_ms=500)

    hangup = wait_event(control, ccid, "call.hangup")["payload"]
    assert hangup["hangup_source"] == "caller"


def test_send_dtmf_is_recorded_on_the_call(control, api, inbound_call):
    ccid = inbound_call()
    api.post(f"/calls/{ccid}/actions/send_dtmf", json={"digits": "1w2"})
    assert [d["digits"] for d in control.call(ccid)["dtmf_sent"]] == ["1w2"]


def test_transcription_turns_what_the_caller_says_into_webhooks(control, api, inbound_call):
    ccid = inbound_call()
    api.post(f"/calls/{ccid}/actions/transcription_start", json={})
    control.say(ccid, "I need help with my order")

    event = wait_event(control, ccid, "call.transcription")
    assert event["payload"]["transcription_data"]["transcript"] == "I need help with my order"


def test_commands_named_in_the_422_fault_are_refused_every_time_and_others_still_work(
    control, api, inbound_call
):
    ccid = inbound_call()
    control.set_faults(command_422_actions="speak, call.transfer")
    speak = {"payload": "Refused", "voice": "female", "command_id": "refused-1"}

    statuses = [api.post(f"/calls/{ccid}/actions/speak", json=speak).status_code for _ in range(2)]
    transfer = api.post(f"/calls/{ccid}/actions/transfer", json={"to": "+13125550199"})
    played = api.post(f"/calls/{ccid}/actions/playback_start", json={"audio_url": "https://example.com/a.mp3"})

    assert statuses == [422, 422]  # permanent: a retry with the same command_id is refused again
    assert transfer.status_code == 422
    error = transfer.json()["errors"][0]
    assert (error["code"], error["title"]) == ("90033", "Unable to execute command")
    assert played.status_code == 200
    assert not control.events(call_control_id=ccid, event_type="call.speak.started")
    assert control.call(ccid)["alive"]  # the call itself is fine
