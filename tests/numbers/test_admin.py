"""Django admin of numbers: a number is released, never deleted (its calls would lose it)."""

import pytest

from apps.calls.models import Call
from apps.numbers.models import PhoneNumber
from tests.factories import CallFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, admin_user):
    admin_user.is_staff = True
    admin_user.is_superuser = True  # even a superuser cannot delete one
    admin_user.save()
    client.force_login(admin_user)
    return client


def test_a_number_cannot_be_deleted_in_the_admin_and_the_admin_says_to_release_it(staff):
    number = PhoneNumberFactory(e164="+13125550110")
    call = CallFactory(phone_number=number)

    change = staff.get(f"/admin/numbers/phonenumber/{number.pk}/change/").content.decode()
    assert f"/admin/numbers/phonenumber/{number.pk}/delete/" not in change
    assert "Release a number from the Numbers page" in change
    listing = staff.get("/admin/numbers/phonenumber/").content.decode()
    assert "delete_selected" not in listing and "Numbers cannot be deleted here" in listing

    assert staff.post(f"/admin/numbers/phonenumber/{number.pk}/delete/", {"post": "yes"}).status_code == 403
    staff.post("/admin/numbers/phonenumber/", {"action": "delete_selected", "_selected_action": [number.pk],
                                               "post": "yes"})
    assert PhoneNumber.objects.filter(pk=number.pk).exists()
    assert Call.objects.get(pk=call.pk).phone_number_id == number.pk
