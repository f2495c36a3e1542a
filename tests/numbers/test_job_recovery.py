"""Jobs that got stuck are finished: the sweep queues again those whose task was lost, admins retry failed ones."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from apps.numbers import numbers_api
from apps.numbers.models import NumberJob, PhoneNumber
from apps.numbers.services.jobs import MAX_REQUEUES, STALE_AFTER
from apps.numbers.tasks import number_job_run_task, number_jobs_sweep_task
from contactcenter.celery import app as celery_app
from tests.factories import PhoneNumberFactory, UserFactory


@pytest.fixture
def broker_down(monkeypatch):
    """Queuing a job's task fails (Redis unreachable when the view committed)."""

    def refuse(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(number_job_run_task, "delay", refuse)
    return monkeypatch


@pytest.fixture
def queued(monkeypatch):
    """Jobs queued by the sweep, not run (for tests that only look at what it picks)."""
    picked = []
    monkeypatch.setattr(number_job_run_task, "delay", picked.append)
    return picked


def _left_alone(job, **state):
    """As if nothing happened to the job for longer than the sweep waits."""
    NumberJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - STALE_AFTER - timedelta(seconds=5),
                                               **state)


def _search(admin_client, **params):
    response = admin_client.get("/api/numbers/available/", params)
    assert response.status_code == 200, response.content
    return response.json()


def _orders(center):
    return center.sandbox.commands(name="number_order.create")


# --- the sweep -----------------------------------------------------------------------------
def test_beat_runs_the_sweep():
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("number_jobs_sweep"))
    assert entry["task"] in celery_app.tasks and entry["schedule"] <= 60


@pytest.mark.e2e
def test_an_order_whose_task_could_not_be_queued_is_queued_again_by_the_sweep_and_completes(
    center, admin_client, broker_down
):
    row = _search(admin_client, national_destination_code="617", limit=1)[0]
    response = admin_client.post("/api/numbers/orders/", {"phone_number": row["phone_number"]},
                                 content_type="application/json")
    job = NumberJob.objects.get(pk=response.json()["id"])
    assert (job.status, _orders(center)) == ("queued", [])
    broker_down.undo()  # Redis is back

    assert number_jobs_sweep_task() == 0  # not given up on yet: its task may only be slow
    _left_alone(job)
    assert number_jobs_sweep_task() == 1

    job = center.wait_for(lambda: NumberJob.objects.filter(pk=job.pk, status="done").first(), timeout=15)
    assert PhoneNumber.objects.get(e164=row["phone_number"]).telnyx_id
    assert len(_orders(center)) == 1


@pytest.mark.e2e
def test_an_order_whose_worker_died_after_posting_adopts_the_number_instead_of_ordering_again(
    center, admin_client, broker_down
):
    row = _search(admin_client, national_destination_code="303", limit=1)[0]
    job = NumberJob.objects.get(pk=admin_client.post(
        "/api/numbers/orders/", {"phone_number": row["phone_number"], "label": "Denver"},
        content_type="application/json").json()["id"])
    broker_down.undo()
    # The worker saved "about to POST", Telnyx bought the number, the worker died before
    # saving the answer, and Telnyx lists no order under our reference.
    [owned] = center.sandbox.set_owned_numbers([row["phone_number"]])
    _left_alone(job, status="running", step="Placing the order", order_sent_at=timezone.now() - timedelta(minutes=3),
                lease_until=timezone.now() - timedelta(seconds=30))

    assert number_jobs_sweep_task() == 1

    job.refresh_from_db()
    assert (job.status, job.error) == ("done", "")
    assert _orders(center) == []  # never POSTed a second time
    number = PhoneNumber.objects.get(e164=row["phone_number"])
    assert (number.telnyx_id, number.label, job.number) == (owned["id"], "Denver", number)
    at_telnyx = next(n for n in center.sandbox.owned_numbers() if n["phone_number"] == row["phone_number"])
    assert at_telnyx["connection_id"] == "sandbox-connection"


@pytest.mark.e2e
def test_a_number_left_being_released_is_released_by_the_sweep(center, admin_client, broker_down):
    [owned] = center.sandbox.set_owned_numbers(["+13125550133"])
    number = PhoneNumberFactory(e164="+13125550133", telnyx_id=owned["id"])
    job = NumberJob.objects.get(pk=admin_client.post(f"/api/numbers/{number.pk}/release/").json()["id"])
    broker_down.undo()
    assert PhoneNumber.objects.get(pk=number.pk).get_status_display() == "Being released"

    _left_alone(job)
    number_jobs_sweep_task()

    assert NumberJob.objects.get(pk=job.pk).status == "done"
    assert PhoneNumber.objects.get(pk=number.pk).status == "released"
    assert "+13125550133" not in {n["phone_number"] for n in center.sandbox.owned_numbers()}


@pytest.mark.django_db
def test_the_sweep_leaves_alone_a_job_whose_runner_holds_it_or_that_moved_lately(
    admin_user, queued, django_capture_on_commit_callbacks
):
    held = NumberJob.objects.create(kind="import", status="running", created_by=admin_user)
    _left_alone(held, lease_until=timezone.now() + timedelta(seconds=30))  # a runner is on it
    recent = NumberJob.objects.create(kind="order", status="running", phone_number="+13125550144",
                                      created_by=admin_user)  # between two polls of its order
    finished = NumberJob.objects.create(kind="import", status="failed", created_by=admin_user)
    _left_alone(finished)
    lost = NumberJob.objects.create(kind="import", status="running", created_by=admin_user)
    _left_alone(lost, lease_until=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert number_jobs_sweep_task() == 1
        assert number_jobs_sweep_task() == 0  # and not again at the next beat: it was just queued
    assert queued == [lost.pk]
    assert {held.pk, recent.pk, finished.pk}.isdisjoint(queued)


@pytest.mark.django_db
def test_a_job_lost_again_and_again_fails_for_the_admin_to_retry_and_its_number_stays_active(
    admin_user, queued
):
    number = PhoneNumberFactory(e164="+13125550135", status="releasing")
    job = NumberJob.objects.create(kind="release", status="running", number=number,
                                   phone_number=number.e164, step="Deleting the number at Telnyx",
                                   created_by=admin_user)
    _left_alone(job, requeues=MAX_REQUEUES)

    assert number_jobs_sweep_task() == 0

    job.refresh_from_db()
    assert job.status == "failed" and "Retry it" in job.error and "Deleting the number" in job.error
    assert PhoneNumber.objects.get(pk=number.pk).status == "active"
    assert queued == []


# --- an admin's retry ------------------------------------------------------------------------
@pytest.mark.e2e
def test_an_admin_retries_a_failed_order_and_the_number_is_bought(center, admin_client, admin_user):
    row = _search(admin_client, national_destination_code="206", limit=1)[0]
    job = NumberJob.objects.create(kind="order", status="failed", phone_number=row["phone_number"],
                                   step="Failed", error="Unexpected error: OperationalError",
                                   created_by=admin_user, details={"label": "Seattle"})

    response = admin_client.post(f"/api/numbers/jobs/{job.pk}/retry/")

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued" and response.json()["error"] == ""
    job = center.wait_for(lambda: NumberJob.objects.filter(pk=job.pk, status="done").first(), timeout=15)
    assert PhoneNumber.objects.get(e164=row["phone_number"]).label == "Seattle"
    assert len(_orders(center)) == 1
    again = admin_client.post(f"/api/numbers/jobs/{job.pk}/retry/")
    assert again.status_code == 400 and "Only a failed job" in again.json()["message"]


@pytest.mark.e2e
def test_a_retried_order_that_had_reached_telnyx_is_found_and_not_placed_again(center, admin_client, admin_user):
    row = _search(admin_client, national_destination_code="416", country_code="CA", limit=1)[0]
    job = NumberJob.objects.create(kind="order", status="failed", phone_number=row["phone_number"],
                                   order_sent_at=timezone.now() - timedelta(minutes=10), created_by=admin_user,
                                   error="Telnyx did not answer", step="Failed")
    # The POST got through; its answer never came back, and the task's retries ran out.
    numbers_api.order_create(phone_number=row["phone_number"], customer_reference=job.customer_reference)

    assert admin_client.post(f"/api/numbers/jobs/{job.pk}/retry/").status_code == 202

    job = center.wait_for(lambda: NumberJob.objects.filter(pk=job.pk, status="done").first(), timeout=15)
    assert len(_orders(center)) == 1  # the one that got through before
    assert job.telnyx_order_id == numbers_api.order_find(job.customer_reference)["id"]


@pytest.mark.e2e
def test_an_admin_retries_a_failed_release(center, admin_client, admin_user):
    [owned] = center.sandbox.set_owned_numbers(["+13125550136"])
    number = PhoneNumberFactory(e164="+13125550136", telnyx_id=owned["id"])
    job = NumberJob.objects.create(kind="release", status="failed", number=number, phone_number=number.e164,
                                   error="Deletion lock is enabled", created_by=admin_user)

    assert admin_client.post(f"/api/numbers/jobs/{job.pk}/retry/").status_code == 202

    center.wait_for(lambda: NumberJob.objects.filter(pk=job.pk, status="done").first(), timeout=15)
    assert PhoneNumber.objects.get(pk=number.pk).status == "released"


@pytest.mark.django_db
def test_a_retry_is_refused_when_the_number_was_bought_meanwhile_or_is_being_ordered(admin_client, admin_user):
    bought = NumberJob.objects.create(kind="order", status="failed", phone_number="+13125550137",
                                      created_by=admin_user)
    PhoneNumberFactory(e164="+13125550137")
    response = admin_client.post(f"/api/numbers/jobs/{bought.pk}/retry/")
    assert response.status_code == 400 and "already one of the center's numbers" in response.json()["message"]

    failed = NumberJob.objects.create(kind="order", status="failed", phone_number="+13125550138",
                                      created_by=admin_user)
    NumberJob.objects.create(kind="order", status="running", phone_number="+13125550138", created_by=admin_user)
    response = admin_client.post(f"/api/numbers/jobs/{failed.pk}/retry/")
    assert response.status_code == 400 and "already being ordered" in response.json()["message"]
    assert NumberJob.objects.get(pk=failed.pk).status == "failed"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["supervisor_user", "agent_user"])
def test_only_the_admin_who_started_a_job_retries_it(request, persona, admin_client, admin_user):
    job = NumberJob.objects.create(kind="import", status="failed", created_by=admin_user)
    other = Client()
    other.force_login(request.getfixturevalue(persona))
    assert other.post(f"/api/numbers/jobs/{job.pk}/retry/").status_code == 403
    another_admin = Client()
    another_admin.force_login(UserFactory(username="grace", roles=["admin"]))
    assert another_admin.post(f"/api/numbers/jobs/{job.pk}/retry/").status_code == 404
    assert NumberJob.objects.get(pk=job.pk).status == "failed"
