"""Only admins manage numbers: every page and endpoint refuses everyone else."""

import json

import pytest
from django.test import Client

from apps.numbers.models import NumberJob, PhoneNumber
from tests.factories import PhoneNumberFactory

pytestmark = pytest.mark.django_db


def _client(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def number(db):
    return PhoneNumberFactory(e164="+13125550110", tracking_source="Google Ads")


def _requests(number):
    return [
        ("get", "/numbers/", None),
        ("get", f"/numbers/{number.pk}/", None),
        ("post", f"/numbers/{number.pk}/release/", None),
        ("get", "/api/numbers/", None),
        ("get", f"/api/numbers/{number.pk}/", None),
        ("patch", f"/api/numbers/{number.pk}/", {"label": "x"}),
        ("post", f"/api/numbers/{number.pk}/release/", None),
        ("get", "/api/numbers/available/?national_destination_code=312", None),
        ("post", "/api/numbers/orders/", {"phone_number": "+13125550142"}),
        ("post", "/api/numbers/import/", {}),
        ("get", "/api/numbers/jobs/", None),
    ]


@pytest.mark.parametrize("persona", ["supervisor_user", "agent_user", "outsider"])
def test_everyone_but_admins_is_refused(request, persona, number):
    client = _client(request.getfixturevalue(persona))
    for method, url, body in _requests(number):
        response = getattr(client, method)(url, body, content_type="application/json") if body is not None \
            else getattr(client, method)(url)
        assert response.status_code == 403, (method, url, response.status_code)
    assert PhoneNumber.objects.get(pk=number.pk).status == "active"


def test_anonymous_visitors_are_sent_to_log_in_or_refused(number):
    client = _client()
    assert client.get("/numbers/").status_code == 302
    assert client.get("/api/numbers/").status_code == 403


def test_admins_list_and_edit_numbers(admin_client, number):
    listed = admin_client.get("/api/numbers/").json()
    assert [(n["e164"], n["tracking_source"], n["call_count"]) for n in listed] == [("+13125550110", "Google Ads", 0)]
    response = admin_client.patch(f"/api/numbers/{number.pk}/", {"tracking_campaign": "spring", "label": "Ads"},
                                  content_type="application/json")
    assert response.status_code == 200, response.content
    assert (response.json()["tracking_campaign"], response.json()["label"]) == ("spring", "Ads")


def test_a_forward_route_needs_a_destination(admin_client, number):
    response = admin_client.patch(f"/api/numbers/{number.pk}/", {"route": "forward"},
                                  content_type="application/json")
    assert response.status_code == 400
    assert "Choose where the Forward" in response.json()["message"]


def test_a_released_number_can_no_longer_be_changed(admin_client, number):
    PhoneNumber.objects.filter(pk=number.pk).update(status="released")
    response = admin_client.patch(f"/api/numbers/{number.pk}/", {"label": "x"}, content_type="application/json")
    assert response.status_code == 400
    assert "was released" in response.json()["message"]


def test_the_search_explains_a_bad_filter(admin_client):
    response = admin_client.get("/api/numbers/available/?national_destination_code=abc&features=teleport")
    assert response.status_code == 400
    assert set(response.json()) == {"national_destination_code", "features"}


def test_an_order_keeps_features_the_search_cannot_filter_on(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(
            "/api/numbers/orders/",
            {"phone_number": "+13125550142", "features": ["voice", "international_sms", "a_future_feature"]},
            content_type="application/json",
        )
    assert response.status_code == 202, response.content
    job = NumberJob.objects.get(pk=response.json()["id"])
    assert job.details["features"] == ["voice", "international_sms", "a_future_feature"]


def test_the_search_page_offers_every_feature_and_number_type_telnyx_searches_on(admin_client):
    page = admin_client.get("/numbers/").content.decode()
    initial = json.loads(page.split('id="numbers-initial" type="application/json">')[1].split("</script>")[0])
    assert {"international_sms", "local_calling"} <= set(initial["features"])
    assert [kind for kind, _ in initial["number_types"]] == ["local", "toll_free", "mobile", "national",
                                                            "shared_cost"]


def test_the_numbers_api_is_in_the_openapi_schema(admin_client):
    schema = admin_client.get("/api/schema/?format=json").json()
    for path in ("/api/numbers/", "/api/numbers/available/", "/api/numbers/orders/", "/api/numbers/import/",
                 "/api/numbers/{number_id}/release/", "/api/numbers/jobs/{job_id}/",
                 "/api/numbers/jobs/{job_id}/retry/", "/api/call-log/",
                 "/api/analytics/"):
        assert path in schema["paths"], path


def test_an_admin_follows_their_own_jobs_only(admin_client, admin_user, django_capture_on_commit_callbacks):
    from apps.numbers.services import numbers_import_start
    from tests.factories import UserFactory

    with django_capture_on_commit_callbacks(execute=False):
        mine = numbers_import_start(user=admin_user)
        theirs = numbers_import_start(user=UserFactory(username="grace", roles=["admin"]))

    assert [j["id"] for j in admin_client.get("/api/numbers/jobs/").json()] == [mine.pk]
    assert admin_client.get(f"/api/numbers/jobs/{mine.pk}/").json()["status"] == "queued"
    assert admin_client.get(f"/api/numbers/jobs/{theirs.pk}/").status_code == 404


def test_an_admin_releases_a_number_from_its_page(admin_client, numbers_edge, django_capture_on_commit_callbacks):
    number = PhoneNumberFactory(e164="+13125550160", telnyx_id="99")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/numbers/{number.pk}/release/")

    assert response.status_code == 302 and response["Location"] == "/numbers/"
    assert [(r["method"], r["path"]) for r in numbers_edge.requests] == [("DELETE", "/v2/phone_numbers/99")]
    number.refresh_from_db()
    assert number.status == "released"
    page = admin_client.get("/numbers/").content.decode()
    assert 'data-released-numbers' in page and "+13125550160" in page
    again = admin_client.post(f"/numbers/{number.pk}/release/", follow=True)
    assert "is released already" in again.content.decode()
