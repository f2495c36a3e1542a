"""Admins search, order, import and release numbers through the REST API, against the sandbox."""

import pytest

from apps.calls.models import Call
from apps.numbers.models import NumberJob, PhoneNumber
from tests.factories import CallFactory, PhoneNumberFactory

pytestmark = pytest.mark.e2e


def _search(admin_client, **params):
    response = admin_client.get("/api/numbers/available/", params)
    assert response.status_code == 200, response.content
    return response.json()


def _finished(center, job_id, timeout=15):
    return center.wait_for(
        lambda: NumberJob.objects.filter(pk=job_id, status__in=["done", "failed"]).first(),
        timeout=timeout, message=f"job {job_id} to finish",
    )


def test_search_returns_the_inventory_that_matches(center, admin_client):
    rows = _search(admin_client, country_code="US", national_destination_code="312", limit=5)
    assert 0 < len(rows) <= 5
    assert all(r["phone_number"].startswith("+1312") and r["locality"] == "Chicago" for r in rows)

    with_fax = _search(admin_client, locality="Austin", administrative_area="TX", features=["fax", "voice"])
    assert with_fax and all({"fax", "voice"} <= set(r["features"]) for r in with_fax)
    assert all(r["locality"] == "Austin" for r in with_fax)


def test_search_filters_on_the_features_telnyx_lists_beyond_the_common_ones(center, admin_client):
    rows = _search(admin_client, features=["international_sms", "local_calling"], limit=50)
    assert rows and all({"international_sms", "local_calling"} <= set(r["features"]) for r in rows)


def test_a_number_whose_search_row_lists_more_features_is_ordered_and_keeps_them(center, admin_client):
    row = _search(admin_client, features=["local_calling", "international_sms"], limit=1)[0]

    response = admin_client.post(
        "/api/numbers/orders/",
        {"phone_number": row["phone_number"], "features": row["features"], "locality": row["locality"]},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    job = _finished(center, response.json()["id"])

    assert (job.status, job.error) == ("done", "")
    features = PhoneNumber.objects.get(e164=row["phone_number"]).features
    assert {"local_calling", "international_sms"} <= set(features)


def test_search_leaves_out_numbers_the_center_owns(center, admin_client):
    first = _search(admin_client, national_destination_code="415", limit=3)[0]["phone_number"]
    PhoneNumberFactory(e164=first)
    assert first not in {r["phone_number"] for r in _search(admin_client, national_destination_code="415", limit=3)}


def test_ordering_creates_the_number_with_its_telnyx_id_on_our_connection(center, admin_client, admin_user):
    row = _search(admin_client, national_destination_code="212", limit=1)[0]

    response = admin_client.post(
        "/api/numbers/orders/",
        {"phone_number": row["phone_number"], "label": "NY ads", "tracking_source": "Subway poster",
         "locality": row["locality"], "region": row["region"], "features": row["features"], "country": "US"},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    job = _finished(center, response.json()["id"])

    assert (job.status, job.step, job.error) == ("done", "Done", "")
    number = PhoneNumber.objects.get(e164=row["phone_number"])
    owned = center.sandbox.owned_numbers()
    at_telnyx = next(n for n in owned if n["phone_number"] == row["phone_number"])
    assert number.telnyx_id == at_telnyx["id"]
    assert number.connection_id == at_telnyx["connection_id"] == "sandbox-connection"
    assert (number.label, number.tracking_source, number.locality, number.status) == (
        "NY ads", "Subway poster", "New York", "active")
    orders = center.sandbox.commands(name="number_order.create")
    assert len(orders) == 1 and orders[0]["body"]["customer_reference"] == job.customer_reference
    assert job.created_by == admin_user and job.number == number


@pytest.mark.allow_spec_violations  # the sandbox logs its "not available" refusal as one; checked below
def test_an_order_telnyx_refuses_fails_with_telnyxs_reason(center, admin_client):
    taken = _search(admin_client, national_destination_code="206", limit=1)[0]["phone_number"]
    center.sandbox.set_owned_numbers([taken])  # someone else got it first

    response = admin_client.post("/api/numbers/orders/", {"phone_number": taken}, content_type="application/json")
    job = _finished(center, response.json()["id"])

    assert job.status == "failed"
    assert "not available" in job.error
    assert not PhoneNumber.objects.filter(e164=taken).exists()
    assert [v["reason"] for v in center.sandbox.violations()] == [f"These numbers are not available: {taken}"]


def test_releasing_deletes_the_number_at_telnyx_and_keeps_its_calls(center, admin_client):
    e164 = _search(admin_client, national_destination_code="305", limit=1)[0]["phone_number"]
    [owned] = center.sandbox.set_owned_numbers([e164])
    number = PhoneNumberFactory(e164=e164, telnyx_id=owned["id"], tracking_source="Radio")
    call = CallFactory(phone_number=number, to_number=e164, tracking_source="Radio")

    response = admin_client.post(f"/api/numbers/{number.pk}/release/")
    assert response.status_code == 202, response.content
    job = _finished(center, response.json()["id"])

    assert job.status == "done"
    assert e164 not in {n["phone_number"] for n in center.sandbox.owned_numbers()}
    deletes = center.sandbox.commands(name="phone_number.delete")
    assert [d["path"] for d in deletes] == [f"/v2/phone_numbers/{owned['id']}"]
    number.refresh_from_db()
    assert number.status == "released" and number.released_at is not None
    assert Call.objects.get(pk=call.pk).phone_number == number  # the history stays
    assert admin_client.get("/api/numbers/").json() == []
    assert [n["e164"] for n in admin_client.get("/api/numbers/?status=released").json()] == [e164]


def test_a_number_never_imported_is_found_by_its_digits_to_be_released(center, admin_client):
    e164 = "+13125550123"
    center.sandbox.set_owned_numbers([e164])
    number = PhoneNumberFactory(e164=e164)  # e.g. typed in before the import existed

    job = _finished(center, admin_client.post(f"/api/numbers/{number.pk}/release/").json()["id"])

    assert job.status == "done"
    assert e164 not in {n["phone_number"] for n in center.sandbox.owned_numbers()}


def test_import_creates_and_updates_the_accounts_numbers(center, admin_client):
    center.sandbox.set_owned_numbers([
        {"phone_number": "+13125550130", "connection_id": "other-app"},
        {"phone_number": "+13125550131", "connection_id": "sandbox-connection"},
        "+15551230001",  # possible but not a valid number: refused, reported
    ])
    existing = PhoneNumberFactory(e164="+13125550131", label="Kept label")

    response = admin_client.post("/api/numbers/import/", {"assign": True}, content_type="application/json")
    job = _finished(center, response.json()["id"])

    assert job.status == "done", job.error
    assert (job.details["created"], job.details["updated"], job.details["invalid"]) == (1, 1, 1)
    assert job.details["invalid_numbers"] == ["+15551230001"]
    owned = {n["phone_number"]: n for n in center.sandbox.owned_numbers()}
    created = PhoneNumber.objects.get(e164="+13125550130")
    assert created.telnyx_id == owned["+13125550130"]["id"]
    assert owned["+13125550130"]["connection_id"] == "sandbox-connection"  # assigned to this center
    existing.refresh_from_db()
    assert (existing.label, existing.telnyx_id) == ("Kept label", owned["+13125550131"]["id"])
    assert job.details["assigned"] == 1
