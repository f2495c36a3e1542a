"""POST /webhooks/telnyx/: signature, parsing, storage, duplicates."""

import time

import pytest

from apps.calls.models import Call
from apps.telnyx.models import TelnyxCommand, TelnyxEvent
from tests.telnyx_webhooks import KeyPair, call_event, encode

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_stores_a_signed_event(webhook):
    body = call_event("call.speak.started", "v3:abc")
    response = webhook(body)
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    event = TelnyxEvent.objects.get()
    assert event.event_id == body["data"]["id"]
    assert event.event_type == "call.speak.started"
    assert event.call_control_id == "v3:abc"
    assert event.processed_at is not None  # eager Celery: processed after commit


def test_it_refuses_a_forged_signature_and_stores_nothing(webhook):
    forger = KeyPair.generate()
    response = webhook(call_event("call.initiated", "v3:forged"), keys=forger)
    assert response.status_code == 403
    assert not TelnyxEvent.objects.exists()
    assert not Call.objects.exists()
    assert not TelnyxCommand.objects.exists()


def test_it_refuses_a_body_changed_after_signing(client, telnyx_keys):
    signed = encode(call_event("call.initiated", "v3:original"))
    tampered = signed.replace(b"v3:original", b"v3:tampered")
    response = client.post(
        "/webhooks/telnyx/", data=tampered, content_type="application/json", **telnyx_keys.headers(signed)
    )
    assert response.status_code == 403
    assert not TelnyxEvent.objects.exists()


def test_it_refuses_a_stale_timestamp(webhook):
    six_minutes_ago = int(time.time()) - 6 * 60
    response = webhook(call_event("call.initiated", "v3:stale"), timestamp=six_minutes_ago)
    assert response.status_code == 403
    assert "tolerance" in response.json()["error"]
    assert not TelnyxEvent.objects.exists()


def test_it_accepts_a_timestamp_within_five_minutes(webhook):
    response = webhook(call_event("call.speak.ended", "v3:fresh"), timestamp=int(time.time()) - 4 * 60)
    assert response.status_code == 200


def test_it_refuses_a_delivery_without_signature_headers(client):
    response = client.post("/webhooks/telnyx/", data=encode(call_event("call.initiated", "v3:x")),
                           content_type="application/json")
    assert response.status_code == 403
    assert not TelnyxEvent.objects.exists()


def test_it_refuses_everything_when_no_public_key_is_configured(webhook, settings):
    settings.TELNYX_PUBLIC_KEY = ""
    assert webhook(call_event("call.initiated", "v3:x")).status_code == 403
    assert not TelnyxEvent.objects.exists()


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"{not json", "body is not JSON"),
        (b"[]", "missing data object"),
        (b'{"data": {"event_type": "call.initiated", "payload": {}}}', "missing data.id"),
        (b'{"data": {"id": "e1", "payload": {}}}', "missing data.event_type"),
    ],
)
def test_it_rejects_a_malformed_body_with_400(webhook, raw, reason):
    response = webhook({}, raw=raw)
    assert response.status_code == 400
    assert response.json()["error"] == reason
    assert not TelnyxEvent.objects.exists()


def test_it_acknowledges_a_duplicate_without_storing_it_again(webhook):
    body = call_event("call.speak.ended", "v3:dup")
    assert webhook(body).json() == {"status": "accepted"}
    second = webhook(body)
    assert second.status_code == 200
    assert second.json() == {"status": "duplicate"}
    assert TelnyxEvent.objects.count() == 1


def test_it_only_accepts_post(client):
    assert client.get("/webhooks/telnyx/").status_code == 405


def test_an_unknown_event_type_is_stored_and_marked_ignored(webhook):
    body = {"data": {"id": "evt-1", "event_type": "fax.received", "occurred_at": "2026-11-21T12:00:00Z",
                     "payload": {"fax_id": "f1"}}}
    assert webhook(body).status_code == 200
    assert TelnyxEvent.objects.get().status == TelnyxEvent.Status.IGNORED


def test_a_payload_that_does_not_parse_is_kept_as_failed_for_reprocessing(webhook):
    body = call_event("call.gather.ended", "v3:bad")
    del body["data"]["payload"]["call_control_id"]  # required by the model
    assert webhook(body).status_code == 200  # stored: Telnyx must not retry it
    event = TelnyxEvent.objects.get()
    assert event.status == TelnyxEvent.Status.FAILED
    assert "call_control_id" in event.error


# --- Through the ASGI application, as uvicorn serves it ------------------------
def _asgi_post(body: bytes, headers: dict, *, chunks: int = 1):
    """POST to the production ASGI app, the body in ``chunks`` ASGI messages."""
    import asyncio

    import httpx

    from contactcenter.asgi import application

    wsgi_headers = {k[5:].replace("_", "-").lower(): v for k, v in headers.items()}

    async def pieces():
        step = -(-len(body) // chunks)
        for start in range(0, len(body), step):
            yield body[start:start + step]

    async def post():
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.post("/webhooks/telnyx/", content=pieces() if chunks > 1 else body,
                                     headers={"content-type": "application/json", **wsgi_headers})

    return asyncio.run(post())


def test_the_asgi_app_stores_a_webhook_sent_in_pieces(telnyx_keys):
    body = encode(call_event("call.speak.started", "v3:asgi", padding="x" * 3000))
    response = _asgi_post(body, telnyx_keys.headers(body), chunks=4)
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    assert response.headers["content-type"] == "application/json"
    assert TelnyxEvent.objects.get().call_control_id == "v3:asgi"


def test_the_asgi_app_refuses_a_forged_webhook(telnyx_keys):
    body = encode(call_event("call.initiated", "v3:asgi-forged"))
    response = _asgi_post(body, KeyPair.generate().headers(body))
    assert response.status_code == 403
    assert not TelnyxEvent.objects.exists()


def test_the_asgi_app_refuses_an_oversized_body_unread(telnyx_keys, settings):
    body = encode(call_event("call.initiated", "v3:huge", padding="x" * 3_000_000))
    response = _asgi_post(body, telnyx_keys.headers(body), chunks=8)
    assert response.status_code == 413
    assert not TelnyxEvent.objects.exists()
