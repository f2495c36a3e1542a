"""``manage.py telnyx_sandbox``: run the Telnyx sandbox on its own."""

from __future__ import annotations

import os
import threading

from django.core.management.base import BaseCommand

from apps.sandbox.runner import SandboxServer


class Command(BaseCommand):
    help = "Run the local Telnyx Voice API emulator (no Telnyx account or internet needed)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--webhook-url", default="http://127.0.0.1:8000/webhooks/telnyx/")
        parser.add_argument(
            "--private-key-b64",
            default=os.environ.get("SANDBOX_PRIVATE_KEY"),
            help="base64 raw Ed25519 private key (default: $SANDBOX_PRIVATE_KEY, else a new key each run)",
        )
        parser.add_argument("--time-scale", type=float, default=1.0)
        parser.add_argument(
            "--spec-path", default=None, help="Telnyx OpenAPI spec (default: found automatically)"
        )

    def handle(self, *args, **options):
        sandbox = SandboxServer(
            webhook_url=options["webhook_url"],
            host=options["host"],
            port=options["port"],
            private_key_b64=options["private_key_b64"],
            time_scale=options["time_scale"],
            spec_path=options["spec_path"],
        )
        sandbox.start()
        spec_loaded = sandbox.engine.spec is not None
        self.stdout.write(f"Telnyx sandbox listening on {sandbox.base_url}")
        self.stdout.write(f"TELNYX_API_BASE_URL={sandbox.api_base_url}")
        self.stdout.write(f"TELNYX_PUBLIC_KEY={sandbox.public_key_b64}")
        self.stdout.write(
            f"webhooks go to {options['webhook_url']}; spec validation: {'on' if spec_loaded else 'OFF'}"
        )
        if not options["private_key_b64"]:
            self.stdout.write(
                "(new key pair: set SANDBOX_PRIVATE_KEY to keep the public key across restarts)"
            )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            sandbox.stop()
