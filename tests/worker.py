"""A real Celery worker process for the tests whose behaviour depends on one.

The worker consumes the machine's Redis and uses the test database, so the
test process (which publishes) and the worker see the same rows and
messages. The queue is purged first so no stale message from another run can
reach it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from contactcenter.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


class WorkerProcess:
    """Worker processes: ``start()`` one that consumes every queue, or ``start("telnyx")`` one per queue."""

    def __init__(self, env: dict):
        self.env = env
        self.procs: list[subprocess.Popen] = []

    def start(self, queues: str | None = None) -> None:
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "contactcenter", "worker", "--pool", "threads",
             "--concurrency", "4", "--loglevel", "WARNING", "--without-heartbeat",
             "--without-mingle", "--without-gossip", "-n", f"test-{uuid.uuid4().hex[:6]}@%h",
             *(["-Q", queues] if queues else [])],
            cwd=ROOT, env=self.env,
        ))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []


def use_broker(url: str) -> None:
    """Point this process's Celery producer at ``url``.

    Forgets the pools the way Celery itself does after a fork; kombu keeps one
    pool per broker URL, so switching back reuses the first one.
    """
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def celery_worker_process(center, settings):
    """A stopped worker (call ``.start()``) and a process that publishes to it."""
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.fail("worker tests need Redis: set REDIS_URL (make test does)")
    db = settings.DATABASES["default"]
    env = dict(
        os.environ,
        DATABASE_URL=f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=redis_url,
        TELNYX_API_BASE_URL=settings.TELNYX_API_BASE_URL,
        TELNYX_PUBLIC_KEY=settings.TELNYX_PUBLIC_KEY,
        TELNYX_CONNECTION_ID=settings.TELNYX_CONNECTION_ID,
        CONN_MAX_AGE="0",
        PYTHONPATH=str(ROOT),
    )
    previous = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    celery_app.conf.task_always_eager = False
    use_broker(redis_url)
    celery_app.control.purge()
    worker = WorkerProcess(env)
    yield worker
    worker.stop()
    celery_app.conf.task_always_eager, broker = previous
    use_broker(broker)
