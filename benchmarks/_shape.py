"""What the benchmarks share: the production shape on this machine, and how figures are printed.

:class:`Stack` starts, against the local PostgreSQL and Redis, what
docker-compose runs: uvicorn serving the ASGI app, a Celery worker and (on
request) Celery beat, on a fresh database of its own. The Telnyx sandbox runs
in the benchmark's own process (see ``apps.sandbox.runner``).
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentiles(values: list[float]) -> str:
    if not values:
        return "no samples"
    values = sorted(values)
    if len(values) == 1:
        return f"{values[0]:.1f} ms  (n=1)"
    q = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {q[49]:.1f} ms  p95 {q[94]:.1f} ms  p99 {q[98]:.1f} ms  max {values[-1]:.1f} ms  (n={len(values)})"


def add_stack_arguments(parser, *, redis_url: str) -> None:
    """The options of the processes :class:`Stack` starts (``redis_url``: this benchmark's default)."""
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--worker-concurrency", type=int, default=1,
                        help="threads (or processes) of the worker of the default queue (events, routing)")
    parser.add_argument("--pool", default="solo", choices=["threads", "prefork", "solo"])
    parser.add_argument("--worker-processes", type=int, default=1,
                        help="worker processes of the default queue (each with --pool/--concurrency)")
    parser.add_argument("--telnyx-concurrency", type=int, default=8,
                        help="threads of the worker of the telnyx queue (API requests)")
    parser.add_argument("--worker-nice", type=int, default=0,
                        help="run the worker at this nice level (the web answers first on a busy box)")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", redis_url))


class Stack:
    """uvicorn + Celery worker (+ beat) subprocesses on a fresh benchmark database.

    ``args`` carries the options of :func:`add_stack_arguments` (and ``no_worker``,
    if the benchmark offers it); ``env`` adds to or overrides the processes' environment.
    """

    def __init__(self, args, public_key_b64: str, api_base_url: str, *, db_name: str = "contactcenter_bench",
                 channels_prefix: str = "cc-bench", env: dict | None = None):
        self.args = args
        self.port = free_port()
        self.procs: list[subprocess.Popen] = []
        pg = args.postgres.rstrip("/")
        self.db_name = db_name
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
            CHANNELS_PREFIX=channels_prefix,
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
            **(env or {}),
        )
        self.admin_dsn = f"{pg}/postgres"

    def describe(self) -> str:
        """The processes and their options, for the figures' header."""
        a = self.args
        return (f"uvicorn --workers {a.web_workers}; {a.worker_processes} x celery -Q celery --pool {a.pool} "
                f"--concurrency {a.worker_concurrency}; celery -Q telnyx --pool threads --concurrency {a.telnyx_concurrency}; "
                f"workers at nice {a.worker_nice}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dsn(self) -> str:
        return self.env["DATABASE_URL"]

    def prepare_database(self, *seed_code: str) -> None:
        """A fresh database, migrated; then each ``seed_code`` run with ``manage.py shell -c``."""
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        self.manage("migrate", "--noinput", "-v", "0")
        for code in seed_code:
            self.manage("shell", "-c", code)

    def manage(self, *argv: str, capture: bool = False) -> str:
        done = subprocess.run([sys.executable, "manage.py", *argv], cwd=ROOT, env=self.env, check=True,
                              capture_output=capture, text=True)
        return done.stdout if capture else ""

    def start(self, *, beat: bool = False) -> None:
        a = self.args
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "contactcenter.asgi:application", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", str(a.web_workers), "--no-access-log",
             "--log-level", os.environ.get("BENCH_WEB_LOG_LEVEL", "warning")],
            cwd=ROOT, env=self.env, start_new_session=True,
        ))
        if getattr(a, "no_worker", False):
            return self._wait_for_web()
        # As docker-compose.yml: one worker per queue.
        workers = [("celery", n, a.pool, a.worker_concurrency) for n in range(a.worker_processes)]
        workers.append(("telnyx", 0, "threads", a.telnyx_concurrency))
        for queue, n, pool, concurrency in workers:
            self.procs.append(subprocess.Popen(
                ["nice", "-n", str(a.worker_nice), sys.executable, "-m", "celery", "-A", "contactcenter", "worker",
                 "-Q", queue, "--pool", pool, "--concurrency", str(concurrency), "--loglevel", "WARNING",
                 "--without-heartbeat", "--without-mingle", "--without-gossip", "-n", f"bench-{queue}-{n}@%h"],
                cwd=ROOT, env=self.env, start_new_session=True,
            ))
        subprocess.run([sys.executable, "-m", "celery", "-A", "contactcenter", "purge", "-f"],
                       cwd=ROOT, env=self.env, check=False, capture_output=True)
        if beat:
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "contactcenter", "beat", "--loglevel", "WARNING"],
                cwd=ROOT, env=self.env, start_new_session=True,
            ))
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
        """Stop every process and what it started (each runs in a process group of its own).

        uvicorn's workers can wait forever for "background tasks" at shutdown; signalling the
        whole group reaches them too, and whatever is left after the grace period is killed.
        """
        for proc in self.procs:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.procs:
            _signal_group(proc, signal.SIGKILL)  # stragglers, the leader's children included
            proc.wait()

    def backlog(self) -> int:
        with psycopg.connect(self.dsn) as conn:
            return conn.execute("SELECT count(*) FROM telnyx_telnyxevent WHERE processed_at IS NULL").fetchone()[0]

    def drain(self, timeout: float = 300) -> float:
        """Wait until the worker has processed every stored webhook; returns the seconds waited."""
        started = time.monotonic()
        while self.backlog() and time.monotonic() - started < timeout:
            time.sleep(0.5)
        return time.monotonic() - started


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


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


def cpu_report(before: dict, after: dict, count: int, unit: str = "webhook") -> str:
    parts = [f"{kind} {(after.get(kind, 0) - before.get(kind, 0)) / count * 1000:.2f}"
             for kind in sorted(after)]
    return f"CPU ms per {unit}: " + ", ".join(parts)
