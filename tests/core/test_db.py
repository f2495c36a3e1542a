"""The hot-path database helpers give what the ORM would, only cheaper."""

import pytest
from django.db import transaction
from django.utils import timezone

from apps.calls.models import Call
from apps.core.db import RowLock, changed_fields, field_values

pytestmark = pytest.mark.django_db(transaction=True)


def _call(**values):
    return Call.objects.create(call_control_id="v3:db-1", from_number="+15551230001", answered_at=timezone.now(),
                               flow="queue", flow_state={"queue": 7, "phase": ["hold"]}, **values)


def test_a_row_lock_reads_the_row_as_the_orm_does():
    made = _call()
    lock = RowLock(Call, "call_control_id", no_key=True)
    with transaction.atomic():
        found = lock.get("v3:db-1")
        missing = lock.get("v3:nobody")
    orm = Call.objects.get(pk=made.pk)
    assert missing is None
    assert found.pk == made.pk and not found._state.adding
    assert field_values(found) == field_values(orm)
    assert found.flow_state == {"queue": 7, "phase": ["hold"]}  # JSON decoded, not text
    assert found.answered_at.tzinfo is not None


def test_a_row_lock_outside_a_transaction_is_refused():
    _call()
    with pytest.raises(transaction.TransactionManagementError):
        RowLock(Call, "call_control_id").get("v3:db-1")


def test_a_row_lock_skips_a_row_another_transaction_holds():
    made = _call()
    lock = RowLock(Call, "id", skip_locked=True)
    from threading import Thread

    seen = {}

    def other():
        with transaction.atomic():
            seen["other"] = lock.get(made.pk)
        from django.db import connection

        connection.close()

    with transaction.atomic():
        assert lock.get(made.pk) is not None
        thread = Thread(target=other)
        thread.start()
        thread.join()
    assert seen["other"] is None


def test_changed_fields_names_only_what_changed_in_place_or_by_assignment():
    call = _call()
    before = field_values(call)
    assert changed_fields(call, before) == []
    call.flow_state["phase"].append("announce")  # mutated in place
    call.status = Call.Status.ANSWERED
    assert sorted(changed_fields(call, before)) == ["flow_state", "status"]


def test_an_event_writes_only_the_columns_it_changes(settings):
    """A webhook applied to a call leaves a column another code path wrote meanwhile alone."""
    from datetime import datetime, timezone as tz

    from apps.calls.services import call_apply_event, call_for_event
    from apps.telnyx.events import parse_event

    call = _call(direction=Call.Direction.INBOUND, to_number="+13125550100")
    body = {"data": {"event_type": "call.hangup", "id": "e-1", "occurred_at": datetime.now(tz.utc).isoformat(),
                     "payload": {"call_control_id": call.call_control_id, "hangup_cause": "normal_clearing",
                                 "hangup_source": "caller"}}}
    with transaction.atomic():
        locked = call_for_event(parse_event(body))
        # Another path (say, the call log) updated a column after we read the row.
        Call.objects.filter(pk=call.pk).update(tracking_source="Billboard 12")
        call_apply_event(call=locked, event=parse_event(body))
    call.refresh_from_db()
    assert call.status == Call.Status.ENDED and call.hangup_cause == "normal_clearing"
    assert call.tracking_source == "Billboard 12"
