"""Filling in the call log: what a call came from, and whether its caller is new."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from apps.calls.models import Call
from apps.numbers.models import PhoneNumber
from apps.numbers.validation import looks_like_e164


@transaction.atomic(savepoint=False)
def call_log_start(*, call_control_id: str) -> Call | None:
    """Snapshot a new inbound call's tracking facts; queue its caller-name lookup after commit.

    Runs after the call was routed (its number is known). The source and
    campaign are copied from the number now, so changing a number's source
    later never rewrites the history of its calls.
    """
    call = (
        Call.objects.select_for_update(no_key=True, of=("self",))
        .select_related("phone_number")
        .filter(call_control_id=call_control_id)
        .first()
    )
    if call is None or call.direction != Call.Direction.INBOUND or call.parent_id or call.first_time_caller is not None:
        return None
    number = call.phone_number
    fields = ["first_time_caller"]
    if number is not None:
        call.tracking_source = number.tracking_source
        call.tracking_campaign = number.tracking_campaign
        call.destination = describe_destination(number)
        fields += ["tracking_source", "tracking_campaign", "destination"]
    call.first_time_caller = caller_is_new(call) if looks_like_e164(call.from_number) else None
    call.save(update_fields=fields + ["updated_at"])
    if call.first_time_caller:
        _later_calls_are_repeats(call)
    if number is not None and looks_like_e164(call.from_number):
        from apps.numbers.tasks import caller_name_lookup_task

        call_id = call.pk
        transaction.on_commit(lambda: caller_name_lookup_task.delay(call_id))
    return call


def caller_is_new(call: Call) -> bool:
    """No earlier inbound call from this number reached the center."""
    started = call.initiated_at or call.created_at
    earlier = Call.objects.filter(
        direction=Call.Direction.INBOUND, parent__isnull=True, from_number=call.from_number
    ).filter(Q(initiated_at__lt=started) | Q(initiated_at=started, pk__lt=call.pk))
    return not earlier.exists()


def _later_calls_are_repeats(call: Call) -> None:
    """A call whose webhook came late may predate calls already marked first-time: they are repeats."""
    started = call.initiated_at or call.created_at
    Call.objects.filter(
        direction=Call.Direction.INBOUND, parent__isnull=True, from_number=call.from_number,
        first_time_caller=True, initiated_at__gt=started,
    ).exclude(pk=call.pk).update(first_time_caller=False)


def describe_destination(number: PhoneNumber) -> str:
    """Where calls to ``number`` go, in words for the log."""
    route = number.route
    if route == PhoneNumber.Route.FORWARD:
        return number.forward_to
    target = {
        PhoneNumber.Route.IVR: number.ivr,
        PhoneNumber.Route.QUEUE: number.queue,
        PhoneNumber.Route.AGENT: number.agent,
    }.get(route)
    label = number.get_route_display()
    return f"{label}: {target}" if target is not None else label
