"""Callers ring an IVR number through the sandbox and move through the menus by keypad."""

import pytest

from apps.calls.models import Call
from apps.ivr.models import IvrStep
from apps.queues.models import QueueEntry
from apps.telnyx.models import TelnyxCommand
from tests.ivr.flows import (
    CLOSED,
    INVALID_PROMPT,
    MAIN_PROMPT,
    SORRY,
    SUPPORT_PROMPT,
    TIMEOUT_PROMPT,
    install,
    menu,
    two_level,
)

pytestmark = pytest.mark.e2e

IVR_LINE = "+13125550150"
HOURS_LINE = "+13125550151"
CALLER = "+15557770001"
DESK = "sip:desk@sandbox.telnyx.com"
SUNDAY_NIGHT = "2026-11-22T03:00:00-06:00"


def sent(center, ccid, *actions):
    """The commands the center sent on a call as Telnyx applied them (repeats it dropped excluded)."""
    commands = [c for c in center.sandbox.commands(call_control_id=ccid) if not c.get("deduped") and c["status"] == 200]
    return [c for c in commands if not actions or c["action"] in actions]


def prompts_heard(center, ccid):
    """What the caller heard, in order: gather prompts and spoken messages."""
    return [c["body"]["payload"] for c in sent(center, ccid, "gather_using_speak", "speak")]


def path(call):
    return [(s.node_key, s.outcome, s.digits, s.next_key) for s in IvrStep.objects.filter(call=call).order_by("step")]


def call_of(center, ccid, **filters):
    return center.wait_for(lambda: Call.objects.filter(call_control_id=ccid, **filters).first(),
                           message=f"call {ccid} with {filters}")


def ended(center, ccid):
    center.sandbox.wait_for_event(ccid, "call.hangup", timeout=15)
    return call_of(center, ccid, status=Call.Status.ENDED)


def enqueued(center, ccid):
    center.sandbox.wait_for_event(ccid, "call.enqueued", timeout=15)
    return center.wait_for(lambda: QueueEntry.objects.filter(call__call_control_id=ccid, entered_at__isnull=False)
                           .select_related("queue").first(), message="the queue entry")


# --- The scenarios (also run under duplicate and reordered deliveries below) --------
def submenu_to_billing(center, queues):
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE, dtmf_script=["2", "1"])["call_control_id"]
    entry = enqueued(center, ccid)
    call = Call.objects.get(call_control_id=ccid)
    assert [c["action"] for c in sent(center, ccid)] == [
        "answer", "gather_using_speak", "gather_using_speak", "enqueue"]
    assert prompts_heard(center, ccid) == [MAIN_PROMPT, SUPPORT_PROMPT]
    assert sent(center, ccid, "enqueue")[0]["body"]["queue_name"] == f"queue-{queues['Billing'].pk}"
    assert (entry.queue, entry.status) == (queues["Billing"], QueueEntry.Status.WAITING)
    assert call.flow == "queue"
    assert path(call) == [("main", "selected", "2", "support"), ("support", "selected", "1", "billing"),
                          ("billing", "enqueued", "", "")]
    center.sandbox.hangup(ccid)
    ended(center, ccid)
    center.wait_for(lambda: QueueEntry.objects.filter(pk=entry.pk, status=QueueEntry.Status.LEFT).exists(),
                    message="the entry to be closed by the hang-up")
    return ccid


def invalid_keys_then_fallback(center, queues):
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE, dtmf_script=["9", "8", "7"])["call_control_id"]
    call = ended(center, ccid)
    assert prompts_heard(center, ccid) == [
        MAIN_PROMPT, INVALID_PROMPT, MAIN_PROMPT, INVALID_PROMPT, MAIN_PROMPT, SORRY]
    assert [c["action"] for c in sent(center, ccid)][-2:] == ["speak", "hangup"]
    assert path(call) == [("main", "invalid", "9", "main"), ("main", "invalid", "8", "main"),
                          ("main", "invalid", "7", "sorry"), ("sorry", "played", "", "")]
    assert call.hangup_source == "callee"  # the center hung up after the fallback, not the caller
    return ccid


def voicemail_left(center, queues):
    from apps.recordings.models import Voicemail

    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE, dtmf_script=["3"])["call_control_id"]
    center.sandbox.wait_for_command(ccid, "record_start", timeout=15)
    center.sandbox.press(ccid, "#")
    call = ended(center, ccid)
    voicemail = center.wait_for(lambda: Voicemail.objects.filter(call=call).select_related("box", "recording").first(),
                                message="the voicemail to be filed")
    record = sent(center, ccid, "record_start")[0]["body"]
    assert (record["format"], record["play_beep"], record["max_length"]) == ("mp3", True, 60)
    assert record["timeout_secs"] == 5  # five seconds of silence after the message ends it
    assert [c["action"] for c in sent(center, ccid)][-4:] == ["record_start", "record_stop", "speak", "hangup"]
    assert voicemail.box.ivr.name == "Test IVR"
    assert voicemail.from_number == CALLER and voicemail.to_number == IVR_LINE
    assert voicemail.recording.purpose == "voicemail"
    assert path(call) == [("main", "selected", "3", "vm"), ("vm", "recorded", "", "")]
    return ccid


def timeout_and_wrong_key_then_sales(center, queues):
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE, dtmf_script=["", "5", "1"])["call_control_id"]
    entry = enqueued(center, ccid)
    assert prompts_heard(center, ccid) == [MAIN_PROMPT, TIMEOUT_PROMPT, MAIN_PROMPT, INVALID_PROMPT, MAIN_PROMPT]
    assert entry.queue == queues["Sales"]
    call = Call.objects.get(call_control_id=ccid)
    assert [(s.outcome, s.attempt) for s in IvrStep.objects.filter(call=call, node_key="main")] == [
        ("timeout", 1), ("invalid", 2), ("selected", 3)]
    center.sandbox.hangup(ccid)
    ended(center, ccid)
    return ccid


def closed_after_hours(center, queues):
    ccid = center.sandbox.place_call(from_=CALLER, to=HOURS_LINE)["call_control_id"]
    call = ended(center, ccid)  # the closed message, then the center hangs up
    assert prompts_heard(center, ccid) == [CLOSED]
    assert [c["action"] for c in sent(center, ccid)] == ["answer", "speak", "hangup"]
    assert path(call) == [("hours", "closed", "", "closed"), ("closed", "played", "", "")]
    assert call.hangup_source == "callee"
    return ccid


def hang_up_mid_menu(center, queues):
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE, dtmf_script=["2"])["call_control_id"]
    center.wait_for(lambda: len(sent(center, ccid, "gather_using_speak")) == 2, message="the support menu")
    center.sandbox.hangup(ccid)
    call = ended(center, ccid)
    center.sandbox.wait_for_idle()
    assert path(call) == [("main", "selected", "2", "support"), ("support", "caller_hangup", "", "")]
    assert IvrStep.objects.filter(call=call, left_at__isnull=True).count() == 0
    assert [c["action"] for c in sent(center, ccid)] == ["answer", "gather_using_speak", "gather_using_speak"]
    assert call.hangup_source == "caller"
    call.refresh_from_db()  # the IVR answered, no person did: not "answered" in the call log
    assert (call.caller_outcome, call.talk_seconds, call.caller_answered_at) == ("self_service", 0, None)
    return ccid


def forward_answered(center, queues):
    center.sandbox.set_destinations({DESK: {"answer": "auto"}})
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE, dtmf_script=["0"])["call_control_id"]
    call = call_of(center, ccid)
    center.wait_for(lambda: IvrStep.objects.filter(call=call, node_key="desk", outcome="forwarded").exists(),
                    message="the desk to answer")
    assert center.sandbox.call(ccid)["bridged_with"]
    transfer = sent(center, ccid, "transfer")[0]["body"]
    assert (transfer["to"], transfer["from"]) == (DESK, CALLER)  # the desk sees who is calling
    center.sandbox.hangup(ccid)
    ended(center, ccid)
    center.sandbox.wait_for_idle()
    assert path(call) == [("main", "selected", "0", "desk"), ("desk", "forwarded", "", "")]
    desk_leg = center.wait_for(lambda: Call.objects.filter(parent=call).first(), message="the desk's leg")
    assert desk_leg.from_number == CALLER and desk_leg.answered_at is not None
    call.refresh_from_db()  # the desk's answer is when a person took the call
    assert (call.caller_outcome, call.connected_at) == ("answered", desk_leg.answered_at)
    assert call.talk_seconds == int((call.ended_at - desk_leg.answered_at).total_seconds())
    return ccid


def forward_unanswered_to_voicemail(center, queues):
    center.sandbox.set_destinations({DESK: {"answer": "never"}})
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE, dtmf_script=["0"])["call_control_id"]
    transfer = center.sandbox.wait_for_command(ccid, "transfer")
    assert (transfer["body"]["to"], transfer["body"]["timeout_secs"]) == (DESK, 10)
    assert transfer["body"]["from"] == CALLER  # the desk sees who is calling, not the IVR line
    center.sandbox.wait_for_command(ccid, "record_start", timeout=15)
    call = Call.objects.get(call_control_id=ccid)
    assert path(call)[:2] == [("main", "selected", "0", "desk"), ("desk", "no_answer", "", "vm")]
    desk_leg = center.wait_for(lambda: Call.objects.filter(parent=call, status=Call.Status.ENDED).first(),
                               message="the desk's leg to end")
    assert desk_leg.to_number == DESK and desk_leg.outcome == Call.Outcome.NO_ANSWER
    assert desk_leg.from_number == CALLER
    center.sandbox.hangup(ccid)
    ended(center, ccid)
    return ccid


# Every outcome of a call in the IVR; each also runs under duplicated and reordered webhooks below.
SCENARIOS = [
    submenu_to_billing, invalid_keys_then_fallback, timeout_and_wrong_key_then_sales, voicemail_left,
    closed_after_hours, hang_up_mid_menu, forward_answered, forward_unanswered_to_voicemail,
]


@pytest.fixture
def ivr(center, queues, settings):
    """The main line (menus first) and an after-hours line (business hours first), on a Sunday night."""
    settings.IVR_FROZEN_NOW = SUNDAY_NIGHT
    install(two_level(queues, entry="hours", name="After-hours IVR"), HOURS_LINE)
    return install(two_level(queues), IVR_LINE)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_scenario(center, ivr, queues, scenario):
    scenario(center, queues)
    assert not TelnyxCommand.objects.filter(status=TelnyxCommand.Status.FAILED).exists()


def test_the_outcomes_do_not_change_when_webhooks_are_duplicated_and_reordered(center, ivr, queues):
    center.sandbox.set_faults(duplicate_rate=0.5, reorder_window_ms=300)
    duplicated = reordered = 0
    for scenario in SCENARIOS:
        ccid = scenario(center, queues)  # asserts the same outcomes as without faults
        center.sandbox.wait_for_idle()
        emitted = [e["id"] for e in center.sandbox.events(call_control_id=ccid)]
        deliveries = center.sandbox.webhooks(call_control_id=ccid)
        delivered = [w["event_id"] for w in deliveries if not w["duplicate"] and w["attempt"] == 1]
        duplicated += sum(w["duplicate"] for w in deliveries)
        reordered += delivered != emitted
    assert duplicated and reordered  # the faults really happened
    assert not TelnyxCommand.objects.filter(status=TelnyxCommand.Status.FAILED).exists()


def test_a_caller_hears_the_main_menu_when_the_ivr_answers(center, ivr):
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE)["call_control_id"]
    gather = center.sandbox.wait_for_command(ccid, "gather_using_speak")
    assert [c["action"] for c in sent(center, ccid)][:2] == ["answer", "gather_using_speak"]
    assert gather["body"]["payload"] == MAIN_PROMPT
    assert gather["body"]["valid_digits"] == "0123" and gather["body"]["maximum_digits"] == 1
    call = call_of(center, ccid, flow="ivr")
    assert call.phone_number.e164 == IVR_LINE
    center.sandbox.hangup(ccid)
    ended(center, ccid)


@pytest.mark.parametrize("now, heard", [
    ("2026-11-22T03:00:00-06:00", CLOSED),  # a Sunday night
    ("2026-12-25T10:00:00-06:00", CLOSED),  # a holiday
    ("2026-11-23T10:00:00-06:00", MAIN_PROMPT),  # a Monday morning
], ids=["sunday-night", "holiday", "monday-morning"])
def test_business_hours_pick_the_open_or_closed_branch(center, queues, settings, now, heard):
    settings.IVR_FROZEN_NOW = now
    install(two_level(queues, entry="hours"), IVR_LINE)
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE)["call_control_id"]
    center.wait_for(lambda: prompts_heard(center, ccid), message="a prompt")
    assert prompts_heard(center, ccid)[0] == heard
    call = Call.objects.get(call_control_id=ccid)
    first = IvrStep.objects.filter(call=call).order_by("step").first()
    assert (first.node_key, first.outcome) == ("hours", "closed" if heard == CLOSED else "open")
    if heard == CLOSED:
        ended(center, ccid)  # the closed message, then the center hangs up
    else:
        center.sandbox.hangup(ccid)
        ended(center, ccid)


def test_a_caller_may_say_an_option_where_speech_is_on(center, queues):
    document = two_level(queues)
    document["nodes"][1] = menu("support", SUPPORT_PROMPT, [("1", "billing"), ("2", "technical")], "sorry",
                                say={"1": "billing, invoice", "2": "technical"}, speech=True)
    install(document, IVR_LINE)
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE, dtmf_script=["2"])["call_control_id"]
    center.sandbox.wait_for_command(ccid, "transcription_start")
    center.wait_for(lambda: len(sent(center, ccid, "gather_using_speak")) == 2, message="the support menu")
    center.sandbox.say(ccid, "I have a question about my Invoice")
    entry = enqueued(center, ccid)
    assert entry.queue == queues["Billing"]
    call = Call.objects.get(call_control_id=ccid)
    support = IvrStep.objects.get(call=call, node_key="support")
    assert (support.outcome, support.speech, support.next_key) == (
        "selected", "i have a question about my invoice", "billing")
    actions = [c["action"] for c in sent(center, ccid)]
    assert actions.index("gather_stop") < actions.index("transcription_stop") < actions.index("enqueue")
    center.sandbox.hangup(ccid)
    ended(center, ccid)


def test_a_caller_who_hangs_up_while_the_forward_rings_abandoned(center, queues):
    document = two_level(queues)
    desk = next(n for n in document["nodes"] if n["key"] == "desk")
    desk["timeout_secs"] = 120  # 6 s of wall clock: time to hang up first
    install(document, IVR_LINE)
    center.sandbox.set_destinations({"sip:desk@sandbox.telnyx.com": {"answer": "manual"}})
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE, dtmf_script=["0"])["call_control_id"]
    center.sandbox.wait_for_command(ccid, "transfer")
    center.sandbox.wait_for_call(lambda c: c["to"] == "sip:desk@sandbox.telnyx.com", direction="outgoing")

    center.sandbox.hangup(ccid)
    call = ended(center, ccid)

    center.sandbox.wait_for_idle()
    call.refresh_from_db()
    assert (call.caller_outcome, call.connected_at, call.talk_seconds) == ("abandoned", None, 0)


def test_a_loop_ends_in_the_flow_fallback_at_the_step_limit(center, queues):
    document = two_level(queues, max_steps=5)
    document["nodes"][0] = menu("main", MAIN_PROMPT, [("1", "main"), ("2", "support")], "sorry")
    install(document, IVR_LINE)
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE, dtmf_script=["1"] * 10)["call_control_id"]
    call = ended(center, ccid)
    steps = path(call)
    assert len(steps) == 7  # five menus, the limit, the fallback
    assert steps[4] == ("main", "selected", "1", "main")
    assert steps[5][:2] == ("main", "step_limit") and steps[5][3] == "sorry"
    assert steps[6] == ("sorry", "played", "", "")
    assert prompts_heard(center, ccid)[-1] == SORRY


def test_a_number_routed_to_a_queue_is_answered_and_enqueued(center, queues):
    from tests.factories import PhoneNumberFactory

    PhoneNumberFactory(e164="+13125550160", route="queue", queue=queues["Technical"], queue_priority=3)
    ccid = center.sandbox.place_call(from_=CALLER, to="+13125550160")["call_control_id"]
    entry = enqueued(center, ccid)
    assert entry.queue == queues["Technical"] and entry.position == 1
    assert entry.priority == 3  # the number's caller priority (a premium line)
    assert [c["action"] for c in sent(center, ccid)] == ["answer", "enqueue"]
    center.sandbox.hangup(ccid)
    ended(center, ccid)
    center.wait_for(lambda: QueueEntry.objects.filter(pk=entry.pk, status="left", leave_reason="hangup").exists())


def test_callers_choosing_a_priority_option_are_served_before_those_who_waited_longer(center, queues):
    from apps.queues.selectors import entry_position

    document = two_level(queues)
    sales = next(n for n in document["nodes"] if n["key"] == "sales")
    document["nodes"].append({**sales, "key": "vip", "name": "Gold members", "priority": 5})
    document["nodes"][0]["options"].append({"digits": "9", "next": "vip", "speech": ""})
    install(document, IVR_LINE)

    usual = center.sandbox.place_call(from_=CALLER, to=IVR_LINE, dtmf_script=["1"])["call_control_id"]
    first_in_line = enqueued(center, usual)
    gold = center.sandbox.place_call(from_="+15557770002", to=IVR_LINE, dtmf_script=["9"])["call_control_id"]
    vip = enqueued(center, gold)

    assert (first_in_line.priority, vip.priority) == (0, 5)
    assert (entry_position(vip), entry_position(QueueEntry.objects.get(pk=first_in_line.pk))) == (1, 2)
    for ccid in (usual, gold):
        center.sandbox.hangup(ccid)
        ended(center, ccid)


def test_a_caller_priority_outside_0_to_100_is_refused_on_save(client, admin_user, queues):
    document = two_level(queues)
    next(n for n in document["nodes"] if n["key"] == "sales")["priority"] = 500
    client.force_login(admin_user)
    response = client.post("/api/ivr/flows/", document, content_type="application/json")
    assert response.status_code == 400
    assert "Node 'sales'" in str(response.json()) and "priority must be between 0 and 100" in str(response.json())


# --- Commands Telnyx refuses ----------------------------------------------------------
def refused(center, ccid, *actions):
    return [c for c in center.sandbox.commands(call_control_id=ccid) if c["status"] == 422 and c["action"] in actions]


def test_a_menu_telnyx_refuses_to_play_sends_the_caller_to_the_flow_fallback(center, ivr):
    center.sandbox.set_faults(command_422_actions="gather_using_speak")
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE)["call_control_id"]
    call = ended(center, ccid)
    assert len(refused(center, ccid, "gather_using_speak")) == 1
    assert prompts_heard(center, ccid) == [SORRY]
    assert path(call) == [("main", "failed", "", "sorry"), ("sorry", "played", "", "")]
    assert call.hangup_source == "callee"  # the center hung up; the caller was not left in silence


def test_when_the_fallback_is_refused_too_the_caller_hears_an_apology_and_is_hung_up(center, queues):
    from apps.ivr.engine import APOLOGY
    from apps.ivr.prompts import audio

    document = two_level(queues)
    document["nodes"][7]["prompt"] = audio("https://example.com/sorry.mp3")  # the fallback plays a file
    install(document, IVR_LINE)
    center.sandbox.set_faults(command_422_actions="gather_using_speak,playback_start")
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE)["call_control_id"]
    call = ended(center, ccid)
    assert [c["action"] for c in refused(center, ccid, "gather_using_speak", "playback_start")] == [
        "gather_using_speak", "playback_start"]  # the fallback is tried once, never again
    assert prompts_heard(center, ccid) == [APOLOGY]
    assert [c["action"] for c in sent(center, ccid)] == ["answer", "speak", "hangup"]
    assert path(call) == [("main", "failed", "", "sorry"), ("sorry", "failed", "", "")]
    assert call.hangup_source == "callee"


def test_when_even_the_apology_is_refused_the_call_is_hung_up_without_looping(center, ivr):
    center.sandbox.set_faults(command_422_actions="gather_using_speak,speak")
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE)["call_control_id"]
    call = ended(center, ccid)
    center.sandbox.wait_for_idle()
    assert [c["action"] for c in refused(center, ccid, "gather_using_speak", "speak")] == [
        "gather_using_speak", "speak", "speak"]  # the menu, the fallback's message, the apology
    assert [c["action"] for c in sent(center, ccid)] == ["answer", "hangup"]
    assert call.hangup_source == "callee"


def test_a_forward_telnyx_refuses_goes_on_to_the_no_answer_branch(center, ivr):
    center.sandbox.set_faults(command_422_actions="transfer")
    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE, dtmf_script=["0"])["call_control_id"]
    center.sandbox.wait_for_command(ccid, "record_start", timeout=15)
    call = Call.objects.get(call_control_id=ccid)
    assert len(refused(center, ccid, "transfer")) == 1
    assert path(call)[:2] == [("main", "selected", "0", "desk"), ("desk", "failed", "", "vm")]
    assert not Call.objects.filter(parent=call).exists()  # nobody was rung
    center.sandbox.hangup(ccid)
    ended(center, ccid)
