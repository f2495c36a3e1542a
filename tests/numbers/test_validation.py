"""Numbers are E.164, checked with libphonenumber: refused with a clear message in the
service, the REST API and the form."""

import pytest
from django.core.exceptions import ValidationError

from apps.core.exceptions import ApplicationError
from apps.numbers.models import PhoneNumber
from apps.numbers.services import number_order_start, phone_number_update
from apps.numbers.validation import destination_normalize, e164_normalize
from tests.factories import PhoneNumberFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed, stored", [
    ("+13125550100", "+13125550100"),
    ("+1 (312) 555-0100", "+13125550100"),
    ("+44 20 7946 0123", "+442079460123"),
])
def test_numbers_typed_with_spaces_and_dashes_are_stored_as_e164(typed, stored):
    assert e164_normalize(typed) == stored


@pytest.mark.parametrize("typed, message", [
    ("3125550100", "is not in E.164 format: start with + and the country code"),
    ("+999123456", "does not start with a known country code"),
    ("+1555123000", "is not a valid phone number"),
    ("+1312555010a", "only digits may follow the +"),
    ("", "Enter a phone number"),
])
def test_numbers_that_are_not_e164_or_of_no_known_country_are_refused(typed, message):
    with pytest.raises(ValidationError) as refused:
        e164_normalize(typed)
    assert message in refused.value.messages[0]


def test_a_forward_destination_may_be_a_sip_uri_but_not_a_local_number():
    assert destination_normalize("sip:desk@pbx.example.com") == "sip:desk@pbx.example.com"
    with pytest.raises(ValidationError, match="not in E.164 format"):
        destination_normalize("555-0100")
    with pytest.raises(ValidationError, match="not a SIP URI"):
        destination_normalize("sip:nobody")


def test_the_order_service_refuses_a_number_that_is_not_e164(admin_user):
    with pytest.raises(ApplicationError, match="not in E.164 format") as refused:
        number_order_start(phone_number="312 555 0100", user=admin_user)
    assert refused.value.extra == {"field": "phone_number"}


def test_the_update_service_refuses_a_forward_to_an_unknown_country():
    number = PhoneNumberFactory(e164="+13125550110")
    with pytest.raises(ApplicationError, match="known country code"):
        phone_number_update(number=number, data={"route": "forward", "forward_to": "+999555"})
    assert PhoneNumber.objects.get(pk=number.pk).route == "greeting"


def test_the_model_refuses_to_store_a_number_that_is_not_normalised():
    with pytest.raises(ValidationError) as refused:
        PhoneNumber(e164="+1 312 555 0100").full_clean()
    assert "e164" in refused.value.message_dict


def test_the_order_api_explains_what_is_wrong_with_the_number(admin_client):
    response = admin_client.post("/api/numbers/orders/", {"phone_number": "+999 1234"},
                                 content_type="application/json")
    assert response.status_code == 400
    assert "does not start with a known country code" in response.json()["phone_number"][0]


def test_the_api_refuses_a_forward_destination_that_is_not_e164(admin_client):
    number = PhoneNumberFactory(e164="+13125550110")
    response = admin_client.patch(f"/api/numbers/{number.pk}/", {"route": "forward", "forward_to": "3125550190"},
                                  content_type="application/json")
    assert response.status_code == 400
    assert "not in E.164 format" in response.json()["forward_to"][0]


def test_the_form_shows_why_a_forward_destination_is_refused(admin_client):
    number = PhoneNumberFactory(e164="+13125550110")
    response = admin_client.post(f"/numbers/{number.pk}/", {
        "label": "Ads", "route": "forward", "forward_to": "+1 555 123 0000", "forward_timeout": 30,
    })
    assert response.status_code == 200
    assert b'data-field-error="forward_to"' in response.content
    assert b"is not a valid phone number" in response.content
    assert PhoneNumber.objects.get(pk=number.pk).forward_to == ""


def test_the_form_saves_tracking_settings_with_the_destination_normalised(admin_client):
    number = PhoneNumberFactory(e164="+13125550110")
    response = admin_client.post(f"/numbers/{number.pk}/", {
        "label": "Ads", "route": "forward", "forward_to": "+1 (312) 555-0190", "forward_timeout": 20,
        "tracking_source": "Google Ads", "tracking_campaign": "spring", "whisper": "Call from {source}",
        "record_calls": "on",
    })
    assert response.status_code == 302
    number.refresh_from_db()
    assert (number.forward_to, number.tracking_source, number.record_calls) == ("+13125550190", "Google Ads", True)
    assert number.whisper_text() == "Call from Google Ads"
