"""Webhook benchmark: the production shape on this machine, driven through the sandbox.

Starts, against the local PostgreSQL and Redis, what docker-compose runs:
uvicorn serving the ASGI app, and a Celery worker; plus the Telnyx sandbox.
Then measures and prints:

1. webhook acknowledgement latency (p50/p95/p99) at a fixed offered rate
   (default 300 webhooks/s, open loop: latency counts from the moment a
   request was due, so a slow server cannot hide behind a slow client);
2. sustained webhooks per second (closed loop, many senders, as fast as the
   app acknowledges);
3. webhook-to-command latency with N concurrent inbound calls: from the
   moment the sandbox sends ``call.initiated`` to the moment the app's
   ``answer`` command reaches the sandbox (and ``call.answered`` -> ``speak``).

Usage: ``make benchmark`` or ``.venv/bin/python benchmarks/webhooks.py --help``.
Figures, not assertions: targets are in the README of this directory.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import aiohttp  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat  # noqa: E402

from _shape import Stack, add_stack_arguments, cpu_report, cpu_seconds, percentiles  # noqa: E402

MAIN_LINE = "+13125550100"


def signed_bodies(private_key: Ed25519PrivateKey, count: int) -> list[tuple[bytes, dict]]:
    """Distinct events for synthetic outbound legs: initiated, answered, hangup.

    Outbound legs are processed like any call (state machine, event log, live
    push) but route nowhere, so the figures measure ingestion, not the sandbox.
    """
    out = []
    timestamp = str(int(time.time()))
    for i in range(count):
        ccid = f"v3:bench-{i // 3}-{uuid.uuid4().hex[:8]}"
        kind = ("call.initiated", "call.answered", "call.hangup")[i % 3]
        payload = {"call_control_id": ccid, "call_leg_id": ccid[3:], "call_session_id": ccid[3:],
                   "connection_id": "sandbox-connection", "from": "+13125550100", "to": "+15551230000",
                   "direction": "outgoing", "state": "bridging"}
        if kind == "call.hangup":
            payload.update(hangup_cause="normal_clearing", hangup_source="callee")
        body = json.dumps({"data": {"record_type": "event", "event_type": kind, "id": str(uuid.uuid4()),
                                    "occurred_at": "2026-11-21T12:00:00.000000Z", "payload": payload},
                           "meta": {"attempt": 1}}).encode()
        signature = base64.b64encode(private_key.sign(timestamp.encode() + b"|" + body)).decode()
        out.append((body, {"content-type": "application/json", "telnyx-signature-ed25519": signature,
                           "telnyx-timestamp": timestamp}))
    return out


async def open_loop(url: str, bodies, rate: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter() + 0.2

        async def one(i, body, headers):
            nonlocal errors
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append((time.perf_counter() - due) * 1000)

        await asyncio.gather(*(one(i, b, h) for i, (b, h) in enumerate(bodies)))
    return latencies, errors


async def closed_loop(url: str, bodies, senders: int) -> tuple[int, float]:
    queue = list(reversed(bodies))
    done = 0
    connector = aiohttp.TCPConnector(limit=senders)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def sender():
            nonlocal done
            while queue:
                body, headers = queue.pop()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    done += response.status == 200

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(senders)))
        return done, time.perf_counter() - started


def webhook_to_command(sandbox, concurrent: int, hold_s: float, duration_s: float):
    """Keep about ``concurrent`` inbound calls up at once, and measure each call's
    ``call.initiated`` sent -> ``answer`` received and ``call.answered`` sent ->
    ``speak`` received (both ends on the sandbox's clock).

    Calls arrive evenly at ``concurrent / hold_s`` per second and each caller
    hangs up after ``hold_s`` seconds, so after the first ``hold_s`` seconds
    ``concurrent`` calls are in progress while new ones keep arriving.
    """
    sandbox.reset()
    rate = concurrent / hold_s
    total = int(rate * duration_s)
    started = time.monotonic()
    ccids = []
    for n in range(total):
        time.sleep(max(0.0, started + n / rate - time.monotonic()))
        placed = sandbox.place_call(from_=f"+1555200{n:04d}", to=MAIN_LINE, hangup_after_ms=hold_s * 1000)
        ccids.append(placed["call_control_id"])
    peak = max(len(sandbox.calls(alive=True)), 0)
    time.sleep(2)
    deliveries = sandbox.webhooks()
    commands = sandbox.commands()

    def first(entries, kind_key, kind):
        times = {}
        for e in entries:
            if e[kind_key] == kind and e["call_control_id"] not in times:
                times[e["call_control_id"]] = e["at"] - e["latency_ms"] / 1000
        return times

    initiated, answered = first(deliveries, "event_type", "call.initiated"), first(deliveries, "event_type", "call.answered")
    answers, speaks = first(commands, "action", "answer"), first(commands, "action", "speak")
    to_answer = [(answers[c] - initiated[c]) * 1000 for c in ccids if c in answers and c in initiated]
    to_speak = [(speaks[c] - answered[c]) * 1000 for c in ccids if c in speaks and c in answered]
    return to_answer, to_speak, total - len(to_answer), rate, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=300.0, help="offered webhooks per second (phase 1)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of phase 1")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds at the same rate before measuring")
    parser.add_argument("--senders", type=int, default=32, help="concurrent senders (phase 2)")
    parser.add_argument("--burst", type=int, default=6000, help="webhooks sent in phase 2")
    parser.add_argument("--calls", type=int, default=100, help="calls in progress at once (phase 3)")
    parser.add_argument("--hold", type=float, default=20.0, help="seconds each phase-3 caller stays on the line")
    parser.add_argument("--calls-duration", type=float, default=40.0, help="seconds of phase 3")
    add_stack_arguments(parser, redis_url="redis://127.0.0.1:6379/1")
    parser.add_argument("--no-worker", action="store_true", help="measure the web alone (events pile up)")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings")
    from apps.sandbox.client import SandboxClient
    from apps.sandbox.runner import SandboxServer

    private = Ed25519PrivateKey.generate()
    private_b64 = base64.b64encode(private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()
    sandbox_server = SandboxServer(webhook_url=None, private_key_b64=private_b64, time_scale=1.0)
    sandbox_server.start()
    stack = Stack(args, sandbox_server.public_key_b64, sandbox_server.api_base_url)
    print(f"settings: {os.cpu_count()} CPUs; {stack.describe()}; PostgreSQL {args.postgres}; Redis {args.redis}")
    stack.prepare_database(
        "from apps.numbers.models import PhoneNumber;"
        f"PhoneNumber.objects.get_or_create(e164='{MAIN_LINE}', defaults={{'greeting': 'This is the benchmark line. ' * 12}})"
    )
    stack.start()
    sandbox = SandboxClient(sandbox_server.base_url)
    sandbox.update_config(webhook_url=f"{stack.url}/webhooks/telnyx/")
    url = f"{stack.url}/webhooks/telnyx/"
    try:
        # Warm up (imports, pooled connections, JIT-free but cache-warm
        # interpreters) at the same rate; those figures are discarded.
        asyncio.run(open_loop(url, signed_bodies(private, int(args.rate * args.warmup)), args.rate))
        if not args.no_worker:
            stack.drain()
        count = int(args.rate * args.duration)
        bodies = signed_bodies(private, count)
        before = cpu_seconds()
        latencies, errors = asyncio.run(open_loop(url, bodies, args.rate))
        after = cpu_seconds()
        print(f"\n1. webhook ack latency at {args.rate:.0f}/s offered for {args.duration:.0f} s: {percentiles(latencies)}"
              f"; non-200: {errors}")
        print(f"   {cpu_report(before, after, count)}")
        if not args.no_worker:
            # CPU the worker did not spend yet is not in the figures above: say how far behind it was.
            behind = stack.backlog()
            print(f"   worker backlog when the last webhook was acknowledged: {behind} events, "
                  f"processed {stack.drain():.1f} s later")

        done, elapsed = asyncio.run(closed_loop(url, signed_bodies(private, args.burst), args.senders))
        print(f"2. sustained: {done / elapsed:.0f} webhooks/s acknowledged ({done} in {elapsed:.1f} s, "
              f"{args.senders} senders)")
        if args.no_worker:
            return
        drained = stack.drain()
        print(f"   worker caught up {drained:.1f} s after the last acknowledgement")

        to_answer, to_speak, missing, rate, peak = webhook_to_command(
            sandbox, args.calls, args.hold, args.calls_duration
        )
        print(f"3. webhook-to-command, {args.calls} calls in progress ({rate:.1f} new calls/s, each "
              f"{args.hold:.0f} s; {peak} up when the last one arrived):")
        print(f"   call.initiated -> answer: {percentiles(to_answer)}" + (f"; {missing} calls never answered" if missing else ""))
        print(f"   call.answered  -> speak:  {percentiles(to_speak)}")
        violations = sandbox.violations()
        print(f"   spec violations: {len(violations)}")
    finally:
        stack.stop()
        sandbox_server.stop()


if __name__ == "__main__":
    main()
