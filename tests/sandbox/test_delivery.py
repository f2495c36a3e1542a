"""Webhook delivery: ordering, retries, duplicate and reorder faults."""

from __future__ import annotations

import time


def _many_dtmf_events(control, count: int = 12) -> str:
    ccid = control.place_call("+13125550111", "+13125550100")["call_control_id"]
    control.press(ccid, "1234567890*#"[:count])
    return ccid


def test_each_calls_webhooks_arrive_in_the_order_they_were_emitted(control, receiver):
    ccid = _many_dtmf_events(control)
    control.wait_for_idle()

    digits = [d["payload"].get("digit") for d in receiver.received("call.dtmf.received", ccid)]
    assert digits == list("1234567890*#")


def test_a_500_from_the_app_is_retried_with_the_same_event_id(control, receiver):
    failures = {"left": 2}

    def respond(delivery):
        if delivery["event_type"] == "call.initiated" and failures["left"]:
            failures["left"] -= 1
            return 500
        return 200

    receiver.respond = respond
    call = control.place_call("+13125550111", "+13125550100")

    attempts = receiver.wait_for("call.initiated", call["call_control_id"], count=3)
    assert len({a["id"] for a in attempts}) == 1
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert all(a["verified"] for a in attempts)  # each attempt is signed anew
    logged = control.webhooks(event_type="call.initiated")
    assert [(w["attempt"], w["status"]) for w in logged] == [(1, 500), (2, 500), (3, 200)]


def test_a_400_from_the_app_is_not_retried(control, receiver):
    receiver.respond = lambda delivery: 400
    call = control.place_call("+13125550111", "+13125550100")
    control.wait_for_idle()

    assert len(receiver.received("call.initiated", call["call_control_id"])) == 1
    assert [w["status"] for w in control.webhooks(event_type="call.initiated")] == [400]


def test_429_and_408_are_retried(control, receiver):
    statuses = iter([429, 408, 200])
    receiver.respond = lambda delivery: next(statuses, 200)
    control.place_call("+13125550111", "+13125550100")

    receiver.wait_for("call.initiated", count=3)
    assert [w["status"] for w in control.webhooks(event_type="call.initiated")] == [429, 408, 200]


def test_an_unreachable_app_is_retried_then_given_up(control):
    control.update_config(
        webhook_url="http://127.0.0.1:9/nothing", webhook_max_attempts=3, webhook_retry_base_ms=100
    )
    control.place_call("+13125550111", "+13125550100")
    control.wait_for_idle()

    attempts = control.webhooks(event_type="call.initiated")
    assert [w["attempt"] for w in attempts] == [1, 2, 3]
    assert all(w["status"] is None and w["error"] for w in attempts)
    control.update_config(webhook_max_attempts=5, webhook_retry_base_ms=1000)


def test_the_duplicate_fault_delivers_the_same_event_twice(control, receiver):
    control.set_faults(duplicate_rate=1.0)
    call = control.place_call("+13125550111", "+13125550100")
    control.wait_for_idle()

    deliveries = receiver.received("call.initiated", call["call_control_id"])
    assert len(deliveries) == 2 and deliveries[0]["id"] == deliveries[1]["id"]
    assert [w["duplicate"] for w in control.webhooks(event_type="call.initiated")] == [False, True]


def test_the_reorder_fault_lets_a_calls_events_overtake_each_other(control, receiver):
    control.update_config(seed=7)
    control.set_faults(reorder_window_ms=200)
    ccid = _many_dtmf_events(control)
    control.wait_for_idle()

    digits = [d["payload"]["digit"] for d in receiver.received("call.dtmf.received", ccid)]
    assert sorted(digits) == sorted("1234567890*#")
    assert digits != list("1234567890*#")


def test_webhook_delay_holds_every_delivery(control, receiver):
    control.set_faults(webhook_delay_ms=300)
    started = time.monotonic()
    control.place_call("+13125550111", "+13125550100")

    receiver.wait_for("call.initiated")
    assert time.monotonic() - started >= 0.25


def test_api_latency_delays_answers(control, api, inbound_call):
    control.set_faults(api_latency_ms=300)
    started = time.monotonic()
    api.get("/queues/none")
    assert time.monotonic() - started >= 0.25
