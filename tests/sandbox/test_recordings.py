"""Recordings: saved webhooks, downloadable media, the recordings API."""

from __future__ import annotations

import io
import wave

import httpx

from .conftest import event_types, wait_event


def start(api, ccid: str, **extra) -> None:
    body = {"format": "wav", "channels": "dual", **extra}
    assert api.post(f"/calls/{ccid}/actions/record_start", json=body).status_code == 200


def test_record_stop_saves_a_recording_with_a_downloadable_wav(control, api, inbound_call):
    ccid = inbound_call()
    start(api, ccid)
    api.post(f"/calls/{ccid}/actions/record_stop", json={})

    saved = wait_event(control, ccid, "call.recording.saved")["payload"]
    assert saved["channels"] == "dual" and saved["call_control_id"] == ccid
    assert saved["recording_started_at"] <= saved["recording_ended_at"]
    audio = httpx.get(saved["recording_urls"]["wav"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(audio.content)) as wav:
        assert wav.getnchannels() == 2 and wav.getnframes() > 0
    mp3 = httpx.get(saved["public_recording_urls"]["mp3"])
    assert mp3.status_code == 200 and mp3.content[:2] == b"\xff\xfb"


def test_hanging_up_while_recording_saves_after_the_hangup(control, api, inbound_call):
    ccid = inbound_call()
    start(api, ccid)
    api.post(f"/calls/{ccid}/actions/hangup", json={})

    wait_event(control, ccid, "call.recording.saved")
    assert event_types(control, ccid)[-2:] == ["call.hangup", "call.recording.saved"]


def test_a_recording_stops_by_itself_at_max_length(control, api, inbound_call):
    ccid = inbound_call()
    start(api, ccid, max_length=2)

    wait_event(control, ccid, "call.recording.saved")
    assert control.call(ccid)["recording"] is None and control.call(ccid)["alive"]


def test_the_recordings_api_lists_gets_and_deletes(control, api, inbound_call):
    ccid = inbound_call()
    start(api, ccid, channels="single")
    api.post(f"/calls/{ccid}/actions/record_stop", json={})
    recording_id = wait_event(control, ccid, "call.recording.saved")["payload"]["recording_id"]

    listed = api.get("/recordings", params={"filter[call_control_id]": ccid}).json()
    one = api.get(f"/recordings/{recording_id}").json()["data"]
    deleted = api.delete(f"/recordings/{recording_id}")

    assert [r["id"] for r in listed["data"]] == [recording_id] and listed["meta"][
        "total_results"
    ] == 1
    assert one["status"] == "completed" and one["download_urls"]["wav"].endswith(".wav")
    assert deleted.status_code == 200
    assert api.get(f"/recordings/{recording_id}").status_code == 404
    assert httpx.get(one["download_urls"]["wav"]).status_code == 404


def test_pause_and_resume_keep_a_single_recording(control, api, inbound_call):
    ccid = inbound_call()
    start(api, ccid)
    api.post(f"/calls/{ccid}/actions/record_pause", json={})
    assert control.call(ccid)["recording"]["paused"]
    api.post(f"/calls/{ccid}/actions/record_resume", json={})
    api.post(f"/calls/{ccid}/actions/record_stop", json={})

    wait_event(control, ccid, "call.recording.saved")
    assert len(control.events(call_control_id=ccid, event_type="call.recording.saved")) == 1
