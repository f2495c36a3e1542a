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
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import psycopg  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat  # noqa: E402

MAIN_LINE = "+13125550100"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentiles(values: list[float]) -> str:
    if not values:
        return "no samples"
    values = sorted(values)
    q = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {q[49]:.1f} ms  p95 {q[94]:.1f} ms  p99 {q[98]:.1f} ms  max {values[-1]:.1f} ms  (n={len(values)})"


class Stack:
    """uvicorn + Celery worker subprocesses on a fresh benchmark database."""

    def __init__(self, args, public_key_b64: str, api_base_url: str):
        self.args = args
        self.port = free_port()
        self.procs: list[subprocess.Popen] = []
        pg = args.postgres.rstrip("/")
        self.db_name = "contactcenter_bench"
        self.env = dict(
            os.environ,
            DATABASE_URL=f"{pg}/{self.db_name}",
            REDIS_URL=args.redis,
            SECRET_KEY="benchmark-only",
            DEBUG="false",
            STATIC_MANIFEST="false",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            TELNYX_PUBLIC_KEY=public_key_b64,
            TELNYX_API_BASE_URL=api_base_url,
            TELNYX_CONNECTION_ID="sandbox-connection",
            CHANNELS_PREFIX="cc-bench",
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
        )
        self.admin_dsn = f"{pg}/postgres"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare_database(self) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        self._manage("migrate", "--noinput", "-v", "0")
        self._manage(
            "shell", "-c",
            "from apps.numbers.models import PhoneNumber;"
            f"PhoneNumber.objects.get_or_create(e164='{MAIN_LINE}', defaults={{'greeting': 'This is the benchmark line. ' * 12}})",
        )

    def _manage(self, *argv: str) -> None:
        subprocess.run([sys.executable, "manage.py", *argv], cwd=ROOT, env=self.env, check=True)

    def start(self) -> None:
        a = self.args
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "contactcenter.asgi:application", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", str(a.web_workers), "--no-access-log",
             "--log-level", "warning"],
            cwd=ROOT, env=self.env,
        ))
        if a.no_worker:
            return self._wait_for_web()
        self.procs.append(subprocess.Popen(
            ["nice", "-n", str(a.worker_nice), sys.executable, "-m", "celery", "-A", "contactcenter", "worker",
             "--pool", a.pool,
             "--concurrency", str(a.worker_concurrency), "--loglevel", "WARNING", "--without-heartbeat",
             "--without-mingle", "--without-gossip", "-n", "bench@%h"],
            cwd=ROOT, env=self.env,
        ))
        subprocess.run([sys.executable, "-m", "celery", "-A", "contactcenter", "purge", "-f"],
                       cwd=ROOT, env=self.env, check=False, capture_output=True)
        self._wait_for_web()
        time.sleep(3)  # let the worker connect

    def _wait_for_web(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def backlog(self) -> int:
        with psycopg.connect(self.env["DATABASE_URL"]) as conn:
            return conn.execute("SELECT count(*) FROM telnyx_telnyxevent WHERE processed_at IS NULL").fetchone()[0]


def cpu_seconds() -> dict[str, float]:
    """CPU time (user + system) so far, by kind of process on this machine."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        if "uvicorn" in cmd or "multiprocessing" in cmd and "spawn" in cmd:
            kind = "web"
        elif "celery" in cmd:
            kind = "worker"
        elif cmd.startswith("postgres"):
            kind = "postgres"
        elif "redis-server" in cmd:
            kind = "redis"
        elif int(entry) == os.getpid():
            kind = "load generator + sandbox"
        else:
            continue
        totals[kind] = totals.get(kind, 0.0) + seconds
    return totals


def cpu_report(before: dict, after: dict, count: int) -> str:
    parts = [f"{kind} {(after.get(kind, 0) - before.get(kind, 0)) / count * 1000:.2f}"
             for kind in sorted(after)]
    return "CPU ms per webhook: " + ", ".join(parts)


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
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--worker-concurrency", type=int, default=8)
    parser.add_argument("--pool", default="threads", choices=["threads", "prefork", "solo"])
    parser.add_argument("--worker-nice", type=int, default=0,
                        help="run the worker at this nice level (the web answers first on a busy box)")
    parser.add_argument("--no-worker", action="store_true", help="measure the web alone (events pile up)")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/1"))
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings")
    from apps.sandbox.client import SandboxClient
    from apps.sandbox.runner import SandboxServer

    private = Ed25519PrivateKey.generate()
    private_b64 = base64.b64encode(private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()
    sandbox_server = SandboxServer(webhook_url=None, private_key_b64=private_b64, time_scale=1.0)
    sandbox_server.start()
    stack = Stack(args, sandbox_server.public_key_b64, sandbox_server.api_base_url)
    print(f"settings: {os.cpu_count()} CPUs; uvicorn --workers {args.web_workers}; celery --pool {args.pool} "
          f"--concurrency {args.worker_concurrency}; PostgreSQL {args.postgres}; Redis {args.redis}")
    stack.prepare_database()
    stack.start()
    sandbox = SandboxClient(sandbox_server.base_url)
    sandbox.update_config(webhook_url=f"{stack.url}/webhooks/telnyx/")
    url = f"{stack.url}/webhooks/telnyx/"
    try:
        # Warm up (imports, pooled connections, JIT-free but cache-warm
        # interpreters) at the same rate; those figures are discarded.
        asyncio.run(open_loop(url, signed_bodies(private, int(args.rate * args.warmup)), args.rate))
        if not args.no_worker:
            _drain(stack)
        count = int(args.rate * args.duration)
        bodies = signed_bodies(private, count)
        before = cpu_seconds()
        latencies, errors = asyncio.run(open_loop(url, bodies, args.rate))
        after = cpu_seconds()
        print(f"\n1. webhook ack latency at {args.rate:.0f}/s offered for {args.duration:.0f} s: {percentiles(latencies)}"
              f"; non-200: {errors}")
        print(f"   {cpu_report(before, after, count)}")
        if not args.no_worker:
            _drain(stack)

        done, elapsed = asyncio.run(closed_loop(url, signed_bodies(private, args.burst), args.senders))
        print(f"2. sustained: {done / elapsed:.0f} webhooks/s acknowledged ({done} in {elapsed:.1f} s, "
              f"{args.senders} senders)")
        if args.no_worker:
            return
        drained = _drain(stack)
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


def _drain(stack: Stack, timeout: float = 300) -> float:
    started = time.monotonic()
    while stack.backlog() and time.monotonic() - started < timeout:
        time.sleep(0.5)
    return time.monotonic() - started


if __name__ == "__main__":
    main()
