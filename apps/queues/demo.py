"""Demo queues: the IVR's Sales, Billing and Technical support queues get members, hold audio,
announcements and overflow; a direct line rings the Sales queue; dispositions for wrap-up.

Runs after ``apps.ivr.demo`` (which creates the queues) and ``apps.agents.demo``.
"""

from apps.agents.models import Agent
from apps.numbers.models import PhoneNumber
from apps.queues.models import Disposition, Queue, QueueMember

SALES_LINE = "+13125550130"
DISPOSITIONS = ["Sale", "Question answered", "Issue solved", "Follow-up needed", "Wrong number"]
# queue name -> (settings, [(username, priority)])
QUEUES = {
    "Sales": ({"strategy": Queue.Strategy.LONGEST_IDLE, "hold_text": "Thank you for calling sales. Please hold.",
               "announce_every_secs": 30, "max_wait_secs": 120, "overflow_action": Queue.Overflow.CALLBACK,
               "wrap_up_secs": 20},
              [("agent", 1), ("bob", 1), ("carol", 2)]),
    "Billing": ({"strategy": Queue.Strategy.ROUND_ROBIN, "hold_text": "Thank you for calling billing. Please hold.",
                 "announce_every_secs": 30, "max_wait_secs": 120, "overflow_action": Queue.Overflow.VOICEMAIL,
                 "wrap_up_secs": 20},
                [("agent", 1), ("bob", 1)]),
    "Technical support": ({"strategy": Queue.Strategy.RING_ALL, "hold_text": "Technical support. Please hold.",
                           "announce_every_secs": 30, "wrap_up_secs": 20},
                          [("agent", 1), ("carol", 1)]),
}


def seed() -> list[str]:
    for position, name in enumerate(DISPOSITIONS):
        Disposition.objects.get_or_create(name=name, defaults={"position": position})
    lines = []
    for name, (settings, members) in QUEUES.items():
        queue, created = Queue.objects.get_or_create(name=name)
        if created or not queue.memberships.exists():
            Queue.objects.filter(pk=queue.pk).update(**settings)
            for username, priority in members:
                agent = Agent.objects.filter(user__username=username).first()
                if agent is not None:
                    QueueMember.objects.get_or_create(queue=queue, agent=agent, defaults={"priority": priority})
        names = ", ".join(m.agent.user.username for m in queue.memberships.select_related("agent__user"))
        lines.append(f"queue       {name} ({queue.get_strategy_display().lower()}; {names})")
    sales = Queue.objects.get(name="Sales")
    PhoneNumber.objects.get_or_create(e164=SALES_LINE, defaults={
        "label": "Sales direct line", "route": PhoneNumber.Route.QUEUE, "queue": sales, "country": "US",
        "number_type": "local", "locality": "Chicago", "region": "IL", "features": ["voice"],
    })
    lines.append(f"number      {SALES_LINE} (straight to the Sales queue)")
    return lines


def sandbox_numbers() -> list[str]:
    return [SALES_LINE]


def simulated_calls() -> list[dict]:
    """Callers of the Sales line, from impatient to patient (the IVR's queues only take calls in opening hours)."""
    return [{"to": SALES_LINE, "hangup_after_ms": ms} for ms in (45000, 90000, 150000, 240000)]
