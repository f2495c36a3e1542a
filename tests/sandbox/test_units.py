"""Pieces that need no running server: signing, the spec, config, media."""

from __future__ import annotations

import base64
import io
import wave

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from apps.sandbox import media
from apps.sandbox.errors import ApiError
from apps.sandbox.signing import Signer
from apps.sandbox.spec import load_spec
from apps.sandbox.state import Config

AUTH = {"Authorization": "Bearer KEY_test"}


@pytest.fixture(scope="module")
def spec():
    loaded = load_spec()
    assert loaded is not None, "the Telnyx spec should be found next to the repository"
    return loaded


def test_a_signer_loaded_from_its_private_key_has_the_same_public_key():
    signer = Signer()
    again = Signer(signer.private_key_b64)

    assert again.public_key_b64 == signer.public_key_b64
    assert len(base64.b64decode(signer.public_key_b64)) == 32


def test_signatures_cover_the_timestamp_and_the_body():
    signer = Signer()
    headers = signer.headers(b'{"a":1}', timestamp=1700000000)
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(signer.public_key_b64))

    key.verify(base64.b64decode(headers["telnyx-signature-ed25519"]), b'1700000000|{"a":1}')
    assert headers["telnyx-timestamp"] == "1700000000"


def test_the_spec_maps_event_types_to_their_schemas(spec):
    assert {"call.initiated", "call.hangup", "call.dequeued", "conference.ended"} <= set(
        spec.webhook_schemas
    )


def test_webhook_validation_catches_bad_values_and_undeclared_fields(spec):
    data = {
        "record_type": "event",
        "event_type": "call.hangup",
        "id": "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
        "occurred_at": "2024-01-01T00:00:00.000000Z",
        "payload": {
            "hangup_cause": "tired",
            "hangup_cuase": "typo",
            "end_time": "2024-01-01T00:00:00.000000Z",
        },
    }
    problems = spec.validate_webhook(data)

    assert any("hangup_cause" in p and "tired" in p for p in problems)
    assert any("hangup_cuase" in p for p in problems)
    assert not any("end_time" in p for p in problems)  # documented by Telnyx's guides


def test_bridge_with_only_a_queue_passes_validation(spec):
    spec.validate_request("post", "/calls/abc/actions/bridge", [], AUTH, b'{"queue": "support"}')


def test_deep_object_filters_are_parsed_and_typed(spec):
    checked = spec.validate_request(
        "get",
        "/available_phone_numbers",
        [
            ("filter[features][]", "sms"),
            ("filter[features][]", "voice"),
            ("filter[phone_number][starts_with]", "555"),
            ("filter[limit]", "3"),
            ("filter[quickship]", "true"),
        ],
        AUTH,
        None,
    )

    assert checked.deep["filter"] == {
        "features": ["sms", "voice"],
        "phone_number": {"starts_with": "555"},
        "limit": 3,
        "quickship": True,
    }


def test_a_bad_enum_in_a_filter_names_the_parameter(spec):
    with pytest.raises(ApiError) as error:
        spec.validate_request(
            "get", "/available_phone_numbers", [("filter[features]", "teleport")], AUTH, None
        )
    assert error.value.status == 422 and error.value.parameter.startswith("filter[features]")


def test_config_updates_are_checked():
    config = Config()
    config.update({"faults": {"duplicate_rate": 0.5}, "time_scale": 0.1, "spec_loaded": True})
    assert config.faults.duplicate_rate == 0.5 and config.time_scale == 0.1
    for bad in (
        {"faults": {"duplicate_rate": 2}},
        {"time_scale": 0},
        {"nope": 1},
        {"validate_webhooks": "yes"},
    ):
        with pytest.raises(ValueError):
            config.update(bad)


def test_generated_media_is_real_audio():
    with wave.open(io.BytesIO(media.wav_tone(1.0, channels=2))) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getnframes()) == (2, 8000, 8000)
    assert media.mp3_silence(1.0)[:2] == b"\xff\xfb"


def test_a_missing_spec_means_serving_without_validation(receiver):
    """No spec: a warning, ``spec_loaded: false``, and the API still works."""
    import httpx

    from apps.sandbox.client import SandboxClient
    from apps.sandbox.runner import SandboxServer

    assert load_spec("/nonexistent/telnyx.yml") is None
    with SandboxServer(
        webhook_url=receiver.url, time_scale=0.05, spec_path="/nonexistent/telnyx.yml"
    ) as server:
        control = SandboxClient(server.base_url)
        api = httpx.Client(base_url=server.api_base_url, headers=AUTH)
        assert control.config()["spec_loaded"] is False
        rows = api.get(
            "/available_phone_numbers",
            params={"filter[national_destination_code]": "312", "filter[limit]": "2"},
        ).json()["data"]
        assert len(rows) == 2 and all(r["phone_number"].startswith("+1312") for r in rows)
        ccid = control.place_call("+13125550111", "+13125550100")["call_control_id"]
        assert api.post(f"/calls/{ccid}/actions/answer").json() == {"data": {"result": "ok"}}
        control.wait_for_event(ccid, "call.answered")
        assert control.violations() == []
