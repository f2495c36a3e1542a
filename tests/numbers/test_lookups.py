"""Caller names from Telnyx Number Lookup, cached per number."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.calls.models import Call
from apps.numbers.models import CallerLookup
from apps.numbers.services import call_caller_name_fill
from apps.numbers.services.lookups import CALLER_NAME_TTL
from tests.factories import CallFactory

pytestmark = pytest.mark.django_db

CALLER = "+13125550177"


def _named(name):
    return {"data": {"record_type": "number_lookup", "phone_number": CALLER, "caller_name": {"caller_name": name}}}


def test_the_lookup_names_the_call_and_is_asked_once_per_number(numbers_edge):
    first, second = CallFactory(from_number=CALLER, caller_name=CALLER), CallFactory(from_number=CALLER)
    numbers_edge.respond(200, _named("GRACE HOPPER"))

    call_caller_name_fill(call_id=first.pk)
    call_caller_name_fill(call_id=second.pk)

    assert [Call.objects.get(pk=c.pk).caller_name for c in (first, second)] == ["GRACE HOPPER"] * 2
    assert [(q[1], q[2]) for q in numbers_edge.queries] == [(f"/v2/number_lookup/{CALLER}", {"type": "caller-name"})]


def test_an_expired_name_is_looked_up_again(numbers_edge):
    CallerLookup.objects.create(phone_number=CALLER, caller_name="OLD NAME", status="done",
                                looked_up_at=timezone.now() - CALLER_NAME_TTL - timedelta(minutes=1))
    call = CallFactory(from_number=CALLER)
    numbers_edge.respond(200, _named("NEW NAME"))

    call_caller_name_fill(call_id=call.pk)

    assert Call.objects.get(pk=call.pk).caller_name == "NEW NAME"
    assert CallerLookup.objects.get(phone_number=CALLER).caller_name == "NEW NAME"


def test_a_failed_lookup_keeps_the_name_telnyx_sent_and_is_retried_next_call(numbers_edge):
    call = CallFactory(from_number=CALLER, caller_name="CHICAGO IL")
    numbers_edge.respond(500, {"errors": []})
    numbers_edge.respond(500, {"errors": []})

    call_caller_name_fill(call_id=call.pk)

    assert Call.objects.get(pk=call.pk).caller_name == "CHICAGO IL"
    assert CallerLookup.objects.get(phone_number=CALLER).status == "failed"
    numbers_edge.respond(200, _named("GRACE HOPPER"))
    call_caller_name_fill(call_id=CallFactory(from_number=CALLER).pk)
    assert CallerLookup.objects.get(phone_number=CALLER).caller_name == "GRACE HOPPER"


def test_a_number_with_no_name_on_record_shows_no_name_rather_than_the_number(numbers_edge):
    call = CallFactory(from_number=CALLER, caller_name=CALLER)  # Telnyx often sends the number as the name
    numbers_edge.respond(200, {"data": {"phone_number": CALLER}})

    call_caller_name_fill(call_id=call.pk)

    assert Call.objects.get(pk=call.pk).caller_name == ""


def test_anonymous_callers_are_not_looked_up(numbers_edge):
    call = CallFactory(from_number="anonymous")
    call_caller_name_fill(call_id=call.pk)
    assert numbers_edge.requests == []
