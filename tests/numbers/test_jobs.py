"""Order, release and import jobs against the Telnyx HTTP edge (scripted answers)."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from apps.core.realtime import user_group
from apps.numbers.models import NumberJob, PhoneNumber
from apps.numbers.services import number_job_run, number_order_start, number_release_start
from apps.telnyx.client import TelnyxError
from tests.factories import CallFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

WANTED = "+13125550142"
ORDER = {"id": "ord-1", "status": "pending", "customer_reference": "x",
         "phone_numbers": [{"phone_number": WANTED, "status": "pending"}]}


def _order_job(user, django_capture_on_commit_callbacks) -> NumberJob:
    with django_capture_on_commit_callbacks(execute=False):  # run it step by step here
        return number_order_start(phone_number=WANTED, user=user)


def _bought_answers(edge, connection_id=""):
    edge.respond(200, {"data": {**ORDER, "status": "success",
                                "phone_numbers": [{"phone_number": WANTED, "status": "success"}]}})
    edge.respond(200, {"data": [{"id": "1400", "phone_number": WANTED, "connection_id": connection_id}],
                       "meta": {"total_pages": 1}})


def test_an_order_whose_answer_was_lost_is_found_by_its_reference_not_posted_again(
    numbers_edge, admin_user, django_capture_on_commit_callbacks
):
    job = _order_job(admin_user, django_capture_on_commit_callbacks)
    numbers_edge.fail_next("POST", "/v2/number_orders", httpx.ReadTimeout("no answer"))
    with pytest.raises(TelnyxError):
        number_job_run(job_id=job.pk)  # the task retries this later
    job.refresh_from_db()
    assert job.order_sent_at is not None and job.telnyx_order_id == ""

    numbers_edge.respond(200, {"data": [ORDER], "meta": {"total_results": 1}})  # the lookup finds it
    _bought_answers(numbers_edge)
    assert number_job_run(job_id=job.pk) is None

    job.refresh_from_db()
    assert (job.status, job.telnyx_order_id) == ("done", "ord-1")
    posts = [r for r in numbers_edge.requests if r["method"] == "POST"]
    assert len(posts) == 1  # never a second order
    lookup = [q for q in numbers_edge.queries if q[1] == "/v2/number_orders" and q[0] == "GET"]
    assert lookup == [("GET", "/v2/number_orders", {"filter[customer_reference]": job.customer_reference})]
    number = PhoneNumber.objects.get(e164=WANTED)
    assert (number.telnyx_id, number.connection_id) == ("1400", "sandbox-connection")
    patch = next(r for r in numbers_edge.requests if r["method"] == "PATCH")
    assert (patch["path"], patch["body"]) == ("/v2/phone_numbers/1400", {"connection_id": "sandbox-connection"})


def test_a_lost_order_not_listed_yet_is_waited_for_rather_than_posted_twice(
    numbers_edge, admin_user, django_capture_on_commit_callbacks
):
    job = _order_job(admin_user, django_capture_on_commit_callbacks)
    numbers_edge.fail_next("POST", "/v2/number_orders", httpx.ReadTimeout("no answer"))
    with pytest.raises(TelnyxError):
        number_job_run(job_id=job.pk)

    numbers_edge.respond(200, {"data": [], "meta": {"total_results": 0}})
    assert number_job_run(job_id=job.pk) > 0  # come back later

    assert [r["method"] for r in numbers_edge.requests] == ["POST", "GET"]
    assert NumberJob.objects.get(pk=job.pk).step == "Checking whether Telnyx received the order"

    # A minute on, Telnyx still has no such order: the first POST never landed.
    NumberJob.objects.filter(pk=job.pk).update(order_sent_at=timezone.now() - timedelta(minutes=2))
    numbers_edge.respond(200, {"data": [], "meta": {"total_results": 0}})
    numbers_edge.respond(200, {"data": [], "meta": {"total_results": 0}})  # nor is the number the account's
    numbers_edge.respond(200, {"data": ORDER})
    _bought_answers(numbers_edge, connection_id="sandbox-connection")
    assert number_job_run(job_id=job.pk) is None
    assert NumberJob.objects.get(pk=job.pk).status == "done"
    assert [r["method"] for r in numbers_edge.requests].count("PATCH") == 0  # already on our connection


def test_a_second_runner_of_the_same_job_does_nothing_while_the_first_holds_it(
    numbers_edge, admin_user, django_capture_on_commit_callbacks
):
    job = _order_job(admin_user, django_capture_on_commit_callbacks)
    NumberJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() + timedelta(minutes=1), status="running")
    assert number_job_run(job_id=job.pk) is None
    assert numbers_edge.requests == []


def test_each_step_of_an_order_is_pushed_to_the_admin_who_ordered(
    numbers_edge, admin_user, django_capture_on_commit_callbacks, monkeypatch
):
    pushed = []
    monkeypatch.setattr("apps.core.realtime.publish_rollback_unsafe", lambda group, m: pushed.append((group, m)))
    job = _order_job(admin_user, django_capture_on_commit_callbacks)
    numbers_edge.respond(200, {"data": ORDER})
    _bought_answers(numbers_edge)
    with django_capture_on_commit_callbacks(execute=True):
        number_job_run(job_id=job.pk)

    assert {group for group, _ in pushed} == {user_group(admin_user.pk)}
    steps = [m["job"]["step"] for _, m in pushed]
    assert steps[0] == "Placing the order" and steps[-1] == "Done"
    assert "Assigning the number to this center" in steps
    versions = [m["version"] for _, m in pushed]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)


def test_ordering_a_number_twice_at_once_is_refused(admin_user, django_capture_on_commit_callbacks):
    from apps.core.exceptions import ApplicationError

    _order_job(admin_user, django_capture_on_commit_callbacks)
    with pytest.raises(ApplicationError, match="already being ordered"):
        number_order_start(phone_number=WANTED, user=admin_user)


def test_a_release_telnyx_refuses_leaves_the_number_active(
    numbers_edge, admin_user, django_capture_on_commit_callbacks
):
    number = PhoneNumberFactory(e164="+13125550150", telnyx_id="77")
    with django_capture_on_commit_callbacks(execute=False):
        job = number_release_start(number=number, user=admin_user)
    assert PhoneNumber.objects.get(pk=number.pk).status == "releasing"
    numbers_edge.respond(403, {"errors": [{"code": "10010", "title": "Authorization failed",
                                           "detail": "Deletion lock is enabled"}]})

    number_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "Deletion lock is enabled")
    assert PhoneNumber.objects.get(pk=number.pk).status == "active"


def test_a_release_of_a_number_telnyx_no_longer_has_still_completes(
    numbers_edge, admin_user, django_capture_on_commit_callbacks
):
    number = PhoneNumberFactory(e164="+13125550151", telnyx_id="78")
    call = CallFactory(phone_number=number)
    with django_capture_on_commit_callbacks(execute=False):
        job = number_release_start(number=number, user=admin_user)
    numbers_edge.respond(404, {"errors": [{"code": "10005", "title": "Resource not found"}]})

    number_job_run(job_id=job.pk)

    assert NumberJob.objects.get(pk=job.pk).status == "done"
    number.refresh_from_db()
    assert number.status == "released" and call.phone_number_id == number.pk


def test_a_lost_order_whose_number_is_already_the_accounts_is_adopted_not_posted_again(
    numbers_edge, admin_user, django_capture_on_commit_callbacks
):
    job = _order_job(admin_user, django_capture_on_commit_callbacks)
    numbers_edge.fail_next("POST", "/v2/number_orders", httpx.ReadTimeout("no answer"))
    with pytest.raises(TelnyxError):
        number_job_run(job_id=job.pk)
    # Long after: Telnyx lists no order under our reference, but the number is the account's.
    NumberJob.objects.filter(pk=job.pk).update(order_sent_at=timezone.now() - timedelta(minutes=5))
    numbers_edge.respond(200, {"data": [], "meta": {"total_results": 0}})
    numbers_edge.respond(200, {"data": [{"id": "1401", "phone_number": WANTED, "connection_id": ""}]})

    assert number_job_run(job_id=job.pk) is None

    job.refresh_from_db()
    assert (job.status, job.telnyx_order_id, job.number.telnyx_id) == ("done", "", "1401")
    assert [r["method"] for r in numbers_edge.requests] == ["POST", "GET", "GET", "PATCH"]  # one POST only
    assert numbers_edge.queries[2] == ("GET", "/v2/phone_numbers", {"filter[phone_number]": WANTED.lstrip("+")})


def test_an_order_telnyx_ended_without_the_number_is_placed_afresh_when_retried(
    numbers_edge, admin_user, django_capture_on_commit_callbacks
):
    from apps.numbers.services import number_job_retry

    job = _order_job(admin_user, django_capture_on_commit_callbacks)
    first_reference = job.customer_reference
    numbers_edge.respond(200, {"data": ORDER})
    numbers_edge.respond(200, {"data": {**ORDER, "status": "failure", "phone_numbers": [
        {"phone_number": WANTED, "status": "failure", "regulatory_requirements": ["address proof"]}]}})
    number_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", f"Telnyx could not order {WANTED}: address proof.")

    with django_capture_on_commit_callbacks(execute=False):
        number_job_retry(job=job, user=admin_user)
    numbers_edge.respond(200, {"data": {**ORDER, "id": "ord-2"}})
    _bought_answers(numbers_edge)
    assert number_job_run(job_id=job.pk) is None

    job.refresh_from_db()
    assert (job.status, job.error, job.telnyx_order_id) == ("done", "", "ord-2")
    posts = [r["body"] for r in numbers_edge.requests if r["method"] == "POST"]
    assert [p["customer_reference"] for p in posts] == [first_reference, job.customer_reference]
    assert first_reference != job.customer_reference  # the failed order is never mistaken for the new one


def test_each_step_renews_the_runners_lease(numbers_edge, admin_user, django_capture_on_commit_callbacks,
                                           monkeypatch):
    job = _order_job(admin_user, django_capture_on_commit_callbacks)
    numbers_edge.respond(200, {"data": ORDER})
    numbers_edge.respond(200, {"data": {**ORDER, "status": "success"}})
    numbers_edge.respond(200, {"data": []})  # bought, not listed yet: the task retries
    leases = []
    save = NumberJob.save

    def noting_the_lease(self, *args, **kwargs):
        leases.append(self.lease_until)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(NumberJob, "save", noting_the_lease)
    with pytest.raises(TelnyxError):
        number_job_run(job_id=job.pk)

    assert len(leases) >= 3 and all(a < b for a, b in zip(leases, leases[1:]))  # pushed on at each step
    assert NumberJob.objects.get(pk=job.pk).lease_until is None  # freed for the task's retry
