"""What a waiting caller hears and what happens after the maximum wait: voicemail, another queue, a call-back."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.agents.models import Agent
from apps.calls.models import Call, CallEvent
from apps.queues.models import Offer, Queue, QueueEntry
from apps.queues.services.customer import CALLBACK_GOODBYE, VOICEMAIL_GOODBYE, VOICEMAIL_PROMPT, announcements_due
from apps.queues.services.dispatch import queue_dispatch_until_settled
from apps.recordings.models import Voicemail
from apps.telnyx.client_state import client_state_decode
from tests.factories import UserFactory
from tests.queues.conftest import (
    QUEUE_LINE,
    agent_status,
    available,
    call_of,
    enter,
    entry_of,
    make_agent,
    make_queue,
    offer_of,
    sent,
    sip,
)

pytestmark = pytest.mark.e2e
HOLD_MUSIC = "https://example.com/hold.mp3"


def spoken(center, ccid):
    return [c["body"]["payload"] for c in sent(center, ccid, "speak")]


def heard(center, ccid) -> list[str]:
    """The phases whose speech the caller heard to the end (Telnyx plays audio one after another)."""
    return [client_state_decode(e["payload"].get("client_state")).get("phase")
            for e in center.sandbox.events(call_control_id=ccid, event_type="call.speak.ended")
            if e["payload"].get("status") == "completed"]


def test_a_waiting_caller_hears_the_hold_audio_then_their_position_and_estimated_wait(center):
    queue = make_queue("Sales", hold_audio_url=HOLD_MUSIC, announce_every_secs=30)
    first = enter(center, "+15558880001")
    second = enter(center, "+15558880002")
    play = center.sandbox.wait_for_command(second, "playback_start")
    assert (play["body"]["audio_url"], play["body"]["loop"]) == (HOLD_MUSIC, "infinity")
    assert center.sandbox.call(second)["hearing"]["media"]["url"] == HOLD_MUSIC

    # Announcements are due every 30 s; the periodic tick makes them.
    assert announcements_due(now=timezone.now()) == 0
    QueueEntry.objects.filter(queue=queue).update(next_announcement_at=timezone.now())  # as if 30 s had passed
    # A caller whose call row is busy with a webhook right now is skipped, and served by the next tick.
    announced = []
    center.wait_for(lambda: announced.append(announcements_due()) or sum(announced) >= 2,
                    message="both callers to be announced")
    assert sum(announced) == 2
    center.sandbox.wait_for_command(second, "speak")
    assert spoken(center, first) == ["You are number 1 in line. Your estimated wait is about 3 minutes. "
                                     "Thank you for holding."]
    assert spoken(center, second)[0].startswith("You are number 2 in line.")
    # The announcement cuts the endless hold audio (else it would wait behind it), is heard to the end,
    # and then the hold audio comes back.
    for ccid in (first, second):
        center.wait_for(lambda ccid=ccid: len(sent(center, ccid, "playback_start")) == 2,
                        message="hold audio to resume")
        assert heard(center, ccid) == ["announce"]
        center.wait_for(lambda ccid=ccid: (center.sandbox.call(ccid)["hearing"]["media"] or {}).get("url")
                        == HOLD_MUSIC, message="the caller to hear the hold audio again")
    assert QueueEntry.objects.get(call__call_control_id=second).announcements == 1
    for ccid in (first, second):
        center.sandbox.hangup(ccid)


@pytest.mark.parametrize("hold", [{"hold_audio_url": HOLD_MUSIC}, {"hold_text": "Please hold."}],
                         ids=["hold-audio", "hold-text"])
def test_after_the_maximum_wait_the_caller_leaves_a_voicemail_in_the_queues_box(center, hold):
    queue = make_queue("Billing", max_wait_secs=10, overflow_action=Queue.Overflow.VOICEMAIL, **hold)
    ccid = center.sandbox.place_call(from_="+15558880003", to=QUEUE_LINE)["call_control_id"]
    enqueue = center.sandbox.wait_for_command(ccid, "enqueue")
    assert enqueue["body"]["max_wait_time_secs"] == 10

    center.sandbox.wait_for_event(ccid, "call.dequeued")  # Telnyx's max wait: the caller is parked
    center.sandbox.wait_for_command(ccid, "record_start", timeout=15)
    center.sandbox.press(ccid, "#")
    voicemail = center.wait_for(lambda: Voicemail.objects.filter(call__call_control_id=ccid).select_related("box").first(),
                                timeout=15, message="the voicemail to be filed")
    center.sandbox.wait_for_event(ccid, "call.hangup", timeout=15)
    assert voicemail.box.queue == queue
    assert spoken(center, ccid) == [*([hold["hold_text"]] if "hold_text" in hold else []), VOICEMAIL_PROMPT,
                                    VOICEMAIL_GOODBYE]
    # The prompt was heard to the end before the recording started, then the goodbye.
    assert heard(center, ccid)[-2:] == ["vm_prompt", "vm_goodbye"]
    entry = QueueEntry.objects.get(call=voicemail.call)
    assert (entry.status, entry.leave_reason) == (QueueEntry.Status.LEFT, "voicemail")
    caller = call_of(center, ccid, status=Call.Status.ENDED)
    assert caller.caller_outcome == Call.Outcome.NO_ANSWER


def test_after_the_maximum_wait_the_caller_moves_to_another_queue_keeping_their_place(center):
    olga = make_agent("olga")
    overflow = make_queue("Overflow", agents=[(1, olga)], line=None, wrap_up_secs=0)
    make_queue("Sales", max_wait_secs=10, overflow_action=Queue.Overflow.QUEUE, overflow_queue=overflow)
    center.sandbox.set_destinations({sip("olga"): {"answer": "auto", "ring_ms": 200}})
    ccid = center.sandbox.place_call(from_="+15558880004", to=QUEUE_LINE)["call_control_id"]
    first = entry_of(center, ccid, entered_at__isnull=False)
    moved = entry_of(center, ccid, queue=overflow, entered_at__isnull=False)
    assert moved.place_at == first.place_at  # they keep the time they started waiting
    assert QueueEntry.objects.get(pk=first.pk).leave_reason == "overflow"
    enqueues = sent(center, ccid, "enqueue")
    assert [e["body"]["queue_name"] for e in enqueues] == [f"queue-{first.queue_id}", f"queue-{overflow.pk}"]

    available(olga)
    offer_of(center, ccid, status=Offer.Status.CONNECTED)
    center.sandbox.hangup(ccid)


def test_a_callback_request_keeps_the_callers_place_and_the_agent_calls_them_back(center):
    pia = make_agent("pia")
    queue = make_queue("Sales", agents=[(1, pia)], max_wait_secs=10, overflow_action=Queue.Overflow.CALLBACK,
                       wrap_up_secs=0, hold_audio_url=HOLD_MUSIC)
    center.sandbox.set_destinations({sip("pia"): {"answer": "auto", "ring_ms": 200},
                                     "+15558880005": {"answer": "manual"}})
    ccid = center.sandbox.place_call(from_="+15558880005", to=QUEUE_LINE)["call_control_id"]
    waited = entry_of(center, ccid, entered_at__isnull=False)

    # The maximum wait passes: the caller hears (over the hold audio it stops) that they will be called
    # back, and is hung up.
    callback = entry_of(center, ccid, kind=QueueEntry.Kind.CALLBACK)
    center.sandbox.wait_for_event(ccid, "call.hangup", timeout=15)
    assert spoken(center, ccid) == [CALLBACK_GOODBYE]
    assert heard(center, ccid) == ["callback_bye"]
    assert (callback.status, callback.place_at, callback.callback_number) == (
        QueueEntry.Status.WAITING, waited.place_at, "+15558880005")
    assert QueueEntry.objects.get(pk=waited.pk).leave_reason == "callback"

    # The request is kept: a caller who arrives later waits behind it.
    later = enter(center, "+15558880006")
    line = list(QueueEntry.objects.filter(queue=queue, status=QueueEntry.Status.WAITING)
                .order_by("-priority", "place_at"))
    assert [e.pk for e in line] == [callback.pk, entry_of(center, later).pk]

    # When the agent is free the call-back comes first: their phone rings, then the caller's.
    available(pia)
    offer = center.wait_for(lambda: Offer.objects.filter(entry=callback, status=Offer.Status.CONNECTED).first(),
                            message="the call-back offer to be answered")
    caller_leg = center.sandbox.wait_for_call(lambda c: c["to"] == "+15558880005", direction="outgoing")
    [dial] = center.sandbox.commands(action="dial", call_control_id=caller_leg["call_control_id"])
    assert dial["body"]["from"] == QUEUE_LINE  # they see the number they called
    center.sandbox.answer(caller_leg["call_control_id"])
    conference = center.wait_for(lambda: (c := center.sandbox.conference(offer.conference_name))
                                 and len(c["participants"]) == 2 and c, message="agent and caller together")
    assert {p["call_control_id"] for p in conference["participants"]} == {
        offer.agent_call_control_id, caller_leg["call_control_id"]}
    center.sandbox.hangup(caller_leg["call_control_id"])
    center.wait_for(lambda: Agent.objects.filter(pk=pia.pk, status=Agent.Status.RINGING).exists()
                    or Offer.objects.filter(entry__call__call_control_id=later).exists(),
                    message="the next caller to be offered")
    center.sandbox.hangup(later)


def test_a_missed_call_back_goes_back_in_line_at_its_place_and_fails_after_three_tries(center, client):
    pia = make_agent("pia")
    # A long wrap-up: an agent whose call-back nobody answered has nothing to wrap up, and is free at once.
    queue = make_queue("Sales", agents=[(1, pia)], max_wait_secs=10, overflow_action=Queue.Overflow.CALLBACK,
                       wrap_up_secs=600)
    center.sandbox.set_destinations({sip("pia"): {"answer": "auto", "ring_ms": 200},
                                     "+15558880007": {"answer": "never"}})
    ccid = center.sandbox.place_call(from_="+15558880007", to=QUEUE_LINE)["call_control_id"]
    waited = entry_of(center, ccid, entered_at__isnull=False)
    request = entry_of(center, ccid, kind=QueueEntry.Kind.CALLBACK)
    available(pia)

    for attempt in (1, 2, 3):
        # The agent answers, the caller's phone rings out, and the agent is let go.
        center.wait_for(lambda r=request: QueueEntry.objects.filter(pk=r.pk, status=QueueEntry.Status.LEFT)
                        .exclude(leave_reason="callback").first(), timeout=20,
                        message=f"call-back {attempt} to ring out")
        agent_status(center, pia, Agent.Status.AVAILABLE)
        missed = QueueEntry.objects.get(pk=request.pk)
        assert missed.callback_attempts == attempt
        if attempt == 3:
            break
        assert missed.leave_reason == "callback missed"
        # Back in line at the same place, and not called again at once.
        request = QueueEntry.objects.get(call__call_control_id=ccid, kind=QueueEntry.Kind.CALLBACK,
                                         status=QueueEntry.Status.WAITING)
        assert (request.place_at, request.priority, request.callback_number) == (
            waited.place_at, waited.priority, "+15558880007")
        assert request.not_before > timezone.now() and queue_dispatch_until_settled() == 0
        # Its time comes: it is offered again (by this pass, or the center's tick if it came first).
        QueueEntry.objects.filter(pk=request.pk).update(not_before=timezone.now())
        queue_dispatch_until_settled()
        center.wait_for(lambda r=request: Offer.objects.filter(entry=r).exists(), message="the call-back offered again")

    # After the third miss the request has failed: nobody will call again, and supervisors see it.
    assert missed.leave_reason == "callback failed"
    assert not QueueEntry.objects.filter(queue=queue, status__in=QueueEntry.LIVE).exists()
    legs = center.sandbox.calls(direction="outgoing")
    assert len([leg for leg in legs if leg["to"] == "+15558880007"]) == 3
    assert not Offer.objects.filter(agent=pia, answered_at__isnull=False).exclude(
        end_reason="callback not answered").exists()
    assert CallEvent.objects.filter(call__call_control_id=ccid, kind="queue.callback.failed").exists()
    supervisor = UserFactory(username="sue", roles=["supervisor"])
    client.force_login(supervisor)
    page = client.get(f"/queues/{queue.pk}/").content.decode()
    assert "Call-backs that failed" in page and "+15558880007" in page
