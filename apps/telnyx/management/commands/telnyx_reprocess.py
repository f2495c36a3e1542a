from django.core.management.base import BaseCommand, CommandError

from apps.telnyx.models import TelnyxEvent
from apps.telnyx.services import events_reprocess


class Command(BaseCommand):
    help = "Process stored Telnyx webhook events again: --failed, or --ids 1 2 3."

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="all events whose processing failed")
        parser.add_argument("--ids", nargs="+", type=int, default=[], help="event primary keys")

    def handle(self, *args, failed, ids, **options):
        if not failed and not ids:
            raise CommandError("give --failed or --ids")
        pks = set(ids)
        if failed:
            pks.update(TelnyxEvent.objects.filter(status=TelnyxEvent.Status.FAILED).values_list("pk", flat=True))
        count = events_reprocess(pks=sorted(pks))
        self.stdout.write(f"queued {count} events")
