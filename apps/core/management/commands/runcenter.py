"""``manage.py runcenter``: the whole contact center in one process, no account needed.

Embedded defaults: the database from settings (SQLite unless DATABASE_URL),
the built-in Telnyx sandbox with a fresh key pair, a Celery worker and beat
running as threads of this process, simulated callers, and the ASGI server
(HTTP + websockets). Ctrl-C stops everything.
"""

import logging
import random
import threading
import time

import uvicorn
from django.conf import settings
from django.core import checks
from django.core.management import call_command
from django.core.management.base import BaseCommand

from apps.core.demo import DEMO_USERS, demo_password
from apps.core.management.commands.seed_demo import demo_modules
from apps.telnyx.client import reset_client

logger = logging.getLogger("runcenter")


class Command(BaseCommand):
    help = "Run the center on embedded defaults: demo data, Telnyx sandbox, simulated callers."
    # The Telnyx settings check would warn of the missing keys that the
    # sandbox started below provides; every other check runs in handle().
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8765)
        parser.add_argument("--callers-every", type=float, default=30.0,
                            help="seconds between simulated inbound calls (0 = none)")
        parser.add_argument("--time-scale", type=float, default=1.0,
                            help="sandbox time factor (0.1 = ten times faster than real calls)")
        parser.add_argument("--no-worker", action="store_true",
                            help="do not run Celery in this process (a separate worker consumes REDIS_URL)")

    def handle(self, *args, host, port, sandbox_port, callers_every, time_scale, no_worker, **options):
        if options["verbosity"] < 2:
            # Every task and delivery at INFO drowns the banner and real warnings.
            for name in ("celery", "kombu", "apps.sandbox", "apps.telnyx.client"):
                logging.getLogger(name).setLevel(logging.WARNING)
        self.check(tags=[tag for tag in checks.registry.registry.tags_available() if tag != "telnyx"])
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", stdout=_Discard())
        sandbox = self._start_sandbox(host, port, sandbox_port, time_scale)
        if not no_worker:
            self._start_celery()
        if callers_every > 0:
            _SimulatedCallers(sandbox, callers_every).start()
        self._banner(host, port, sandbox)
        from contactcenter.asgi import application

        uvicorn.run(application, host=host, port=port, log_level="warning", lifespan="off")

    def _start_sandbox(self, host, port, sandbox_port, time_scale):
        from apps.sandbox.client import SandboxClient
        from apps.sandbox.runner import SandboxServer

        server = SandboxServer(
            webhook_url=f"http://{host}:{port}/webhooks/telnyx/", host="127.0.0.1", port=sandbox_port,
            time_scale=time_scale,
        )
        server.start()
        # This process trusts only the sandbox's key, generated at start.
        settings.TELNYX_API_BASE_URL = server.api_base_url
        settings.TELNYX_PUBLIC_KEY = server.public_key_b64
        settings.TELNYX_SANDBOX = True
        settings.TELNYX_SANDBOX_URL = server.base_url
        settings.TELNYX_CONNECTION_ID = settings.TELNYX_CONNECTION_ID or "sandbox-connection"
        reset_client()
        client = SandboxClient(server.base_url)
        owned = [number for module in demo_modules() for number in getattr(module, "sandbox_numbers", lambda: [])()]
        if owned:
            client.set_owned_numbers(owned)
        # How the sandbox answers the demo's phones (agents' softphones and desk phones).
        destinations = {}
        for module in demo_modules():
            destinations.update(getattr(module, "sandbox_destinations", dict)())
        if destinations:
            client.set_destinations(destinations)
        return client

    def _start_celery(self):
        from celery.beat import EmbeddedService
        from kombu.utils.imports import symbol_by_name
        from celery.worker import WorkController

        from contactcenter.celery import app

        worker = WorkController(
            app=app, pool_cls="threads", concurrency=4, hostname="embedded@runcenter",
            without_heartbeat=True, without_mingle=True, without_gossip=True, loglevel="WARNING",
        )
        threading.Thread(target=worker.start, name="celery-worker", daemon=True).start()
        # Beat's embedded service defaults to a shelve file in the working
        # directory; use the same database scheduler as the production beat.
        EmbeddedService(app, thread=True, scheduler_cls=symbol_by_name(settings.CELERY_BEAT_SCHEDULER)).start()

    def _banner(self, host, port, sandbox):
        url = f"http://{host}:{port}/"
        lines = ["", f"Contact center running at {url}", "", "Demo logins:"]
        lines += [f"  {role:<11} {username} / {demo_password()}" for username, role, *_ in DEMO_USERS]
        lines += ["", f"Telnyx sandbox at {sandbox.base_url} (no real calls are made)."]
        lines += ["Simulated callers dial the demo numbers; Ctrl-C stops everything.", ""]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()


class _SimulatedCallers(threading.Thread):
    """Places a demo call through the sandbox every few seconds, forever."""

    def __init__(self, sandbox, every: float):
        super().__init__(name="simulated-callers", daemon=True)
        self.sandbox = sandbox
        self.every = every
        self.scripts = [script for module in demo_modules() for script in getattr(module, "simulated_calls", list)()]

    def run(self):
        rng = random.Random()
        time.sleep(3)
        while self.scripts:
            script = dict(rng.choice(self.scripts))
            script.setdefault("from_", f"+1555{rng.randint(2000000, 9999999)}")
            try:
                self.sandbox.place_call(**script)
            except Exception:
                logger.warning("simulated caller could not place a call", exc_info=True)
            time.sleep(self.every * rng.uniform(0.5, 1.5))


class _Discard:
    def write(self, *args, **kwargs):
        pass

    def flush(self):
        pass
