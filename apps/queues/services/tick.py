"""The periodic tick: what no webhook will trigger, or what a lost webhook left behind.

Runs every couple of seconds from beat. Each part is idempotent and takes
its own short transactions, so a tick that overlaps the next one, or a
webhook arriving at the same time, changes nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.agents.models import Agent
from apps.agents.services import agent_set_status
from apps.queues.models import Offer
from apps.queues.services.customer import announcements_due
from apps.queues.services.dispatch import queue_dispatch_until_settled
from apps.queues.services.offers import agent_wrap_up_end, offer_end, offer_failed, offer_hangup_leg, offer_lock

# A ringing offer whose leg sent no hang-up this long after its ring timeout
# lost its webhook: give up on it so neither caller nor agent stays stuck.
STALE_GRACE = timedelta(seconds=30)
# An agent still "ringing" with no offer ringing for them this long: release.
RINGING_GRACE = timedelta(seconds=60)


@dataclass
class TickResult:
    stale_offers: int = 0
    released_agents: int = 0
    wrap_ups_ended: int = 0
    announcements: int = 0
    offers: int = 0


def queues_tick() -> TickResult:
    result = TickResult()
    result.stale_offers = offers_give_up_stale()
    result.released_agents = agents_release_stuck_ringing()
    result.wrap_ups_ended = sum(
        agent_wrap_up_end(agent_id=pk)
        for pk in Agent.objects.filter(status=Agent.Status.WRAP_UP).values_list("pk", flat=True)
    )
    result.announcements = announcements_due()
    result.offers = queue_dispatch_until_settled()
    return result


def offers_give_up_stale(*, now=None) -> int:
    now = now or timezone.now()
    ringing = Offer.objects.filter(status=Offer.Status.RINGING, created_at__lt=now - STALE_GRACE).values_list(
        "pk", "created_at", "entry__queue__ring_timeout_secs"
    )
    stale = [pk for pk, created, ring in ringing[:500] if created < now - STALE_GRACE - timedelta(seconds=ring)]
    count = 0
    for offer_id in stale:
        with transaction.atomic():
            locked = offer_lock(offer_id)
            if locked is None:
                continue
            customer, entry, offer = locked
            if offer.status != Offer.Status.RINGING:
                continue
            offer_end(offer, Offer.Status.MISSED, "no answer (no webhook)")
            offer_hangup_leg(offer, "stale")
            agent_set_status(agent=offer.agent, status=Agent.Status.AWAY, reason="Missed call",
                             expected=Agent.Status.RINGING)
            offer_failed(customer, entry, offer)
            count += 1
    return count


def agents_release_stuck_ringing(*, now=None) -> int:
    now = now or timezone.now()
    stuck = Agent.objects.filter(status=Agent.Status.RINGING, status_changed_at__lt=now - RINGING_GRACE).exclude(
        offers__status=Offer.Status.RINGING
    )
    count = 0
    for agent in stuck[:200]:
        with transaction.atomic():
            count += agent_set_status(agent=agent, status=Agent.Status.AVAILABLE, expected=Agent.Status.RINGING)
    return count
