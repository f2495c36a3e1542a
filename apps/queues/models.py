"""Call queues: members, strategy, what callers hear, overflow; waiting callers and the offers made to agents.

A caller's stay in a queue is a :class:`QueueEntry`. The dispatcher offers a
waiting entry to one agent (or to every agent of a tier, for ring-all): each
offer is an :class:`Offer` with the agent's phone leg. When an agent answers,
caller and agent talk in a Telnyx conference made for that offer, so a
supervisor can join it later. After the call the agent's wrap-up (disposition
and notes) is kept on the offer.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Queue(models.Model):
    class Strategy(models.TextChoices):
        LONGEST_IDLE = "longest_idle", "Longest idle agent"
        ROUND_ROBIN = "round_robin", "Round robin"
        RING_ALL = "ring_all", "Ring all"
        SKILLS = "skills", "Skills, then caller priority"

    class Overflow(models.TextChoices):
        NONE = "none", "Keep waiting"
        VOICEMAIL = "voicemail", "Voicemail"
        QUEUE = "queue", "Another queue"
        CALLBACK = "callback", "Call back (keeps the caller's place)"

    name = models.CharField(max_length=100, unique=True)
    strategy = models.CharField(max_length=12, choices=Strategy.choices, default=Strategy.LONGEST_IDLE)
    ring_timeout_secs = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(5), MaxValueValidator(120)],
        help_text="How long an agent's phone rings before the caller is offered to the next agent.",
    )
    wrap_up_secs = models.PositiveSmallIntegerField(
        default=30, validators=[MaxValueValidator(3600)],
        help_text="Time an agent has after a call before being available again (0: none).",
    )
    hold_audio_url = models.URLField(max_length=500, blank=True, help_text="Played on a loop while callers wait.")
    hold_text = models.CharField(
        max_length=500, blank=True, help_text="Spoken to callers when they start waiting (text-to-speech)."
    )
    announce_every_secs = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(3600)],
        help_text="Tell waiting callers their position and estimated wait every N seconds (0: never).",
    )
    max_wait_secs = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(86400)], help_text="Longest a caller waits before the overflow "
                                                                     "action runs (0: no limit)."
    )
    overflow_action = models.CharField(max_length=10, choices=Overflow.choices, default=Overflow.NONE)
    overflow_queue = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Where callers go when the overflow action is another queue.",
    )
    callback_number = models.CharField(
        max_length=20, blank=True, help_text="Caller ID for call-backs (E.164; empty: the number the caller dialled)."
    )
    service_level_secs = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(1)],
        help_text="Service level: the share of callers answered within this many seconds.",
    )
    members = models.ManyToManyField("agents.Agent", through="QueueMember", related_name="queues", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def telnyx_name(self) -> str:
        """The Telnyx queue a call is enqueued in: stable even if the queue is renamed."""
        return f"queue-{self.pk}"


class QueueMember(models.Model):
    """An agent serving a queue. Lower ``priority`` is offered first (1 = first tier)."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="memberships")
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="memberships")
    priority = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(99)])
    # Round robin: the member offered a call longest ago goes next.
    last_offered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["priority", "pk"]
        constraints = [models.UniqueConstraint(fields=["queue", "agent"], name="queue_member_unique")]

    def __str__(self):
        return f"{self.agent} in {self.queue} ({self.priority})"


class QueueSkill(models.Model):
    """A skill agents need (at ``min_level`` or above) to take this queue's calls."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="required_skills")
    skill = models.ForeignKey("agents.Skill", on_delete=models.CASCADE, related_name="+")
    min_level = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(10)])

    class Meta:
        ordering = ["skill__name"]
        constraints = [models.UniqueConstraint(fields=["queue", "skill"], name="queue_skill_unique")]


class Disposition(models.Model):
    """How a call ended, as the agent records it in wrap-up (sale, support solved, wrong number...)."""

    name = models.CharField(max_length=60, unique=True)
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class QueueEntry(models.Model):
    """One stay of a caller in a queue: from the enqueue command until it leaves.

    Kept current from ``call.enqueued`` / ``call.dequeued`` / ``call.hangup``,
    whatever order they arrive in: once an entry has left it never waits again.
    A *callback* entry stands for a caller who asked to be called back: it
    waits in the same line, at the place the caller had, with no live call.
    If the caller misses the call-back, a new entry takes the same place
    (tried again a little later), until the request has failed
    ``callback_attempts`` times; its last entry then leaves as
    "callback failed".
    """

    class Status(models.TextChoices):
        WAITING = "waiting"
        OFFERED = "offered"  # an agent's phone is ringing for it
        LEFT = "left"

    class Kind(models.TextChoices):
        CALL = "call"
        CALLBACK = "callback"

    call = models.ForeignKey("calls.Call", on_delete=models.CASCADE, related_name="queue_entries")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CALL)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.WAITING)
    priority = models.SmallIntegerField(default=0, help_text="Higher is served first.")
    place_at = models.DateTimeField(
        null=True, blank=True, help_text="Place in line: callers are served by priority, then by this time."
    )
    target_agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Only this agent may take it (a transfer to an agent, a number routed to an agent).",
    )
    target_until = models.DateTimeField(
        null=True, blank=True,
        help_text="The target agent has until then to take it; afterwards any member of the queue may.",
    )
    callback_number = models.CharField(max_length=255, blank=True)
    callback_attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Call-backs of this request the caller did not take (a missed one puts it back in line).",
    )
    not_before = models.DateTimeField(
        null=True, blank=True, help_text="Not offered to agents before this time (a missed call-back is tried later).",
    )
    entered_at = models.DateTimeField(null=True, blank=True, help_text="When Telnyx put the call in the queue.")
    dequeued_at = models.DateTimeField(null=True, blank=True, help_text="When Telnyx took it out of the queue.")
    left_at = models.DateTimeField(null=True, blank=True)
    leave_reason = models.CharField(max_length=32, blank=True, help_text="answered, hangup, overflow, ...")
    position = models.PositiveIntegerField(null=True, blank=True, help_text="Position when enqueued (1 = first).")
    overflow_due = models.BooleanField(default=False, help_text="Max wait passed while an agent's phone rang.")
    next_announcement_at = models.DateTimeField(null=True, blank=True)
    announcements = models.PositiveSmallIntegerField(default=0)
    answered_at = models.DateTimeField(null=True, blank=True)
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="Who answered.")
    created_at = models.DateTimeField(auto_now_add=True)

    LIVE = (Status.WAITING, Status.OFFERED)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "queue entries"
        indexes = [
            models.Index(fields=["queue", "created_at"], condition=Q(status="waiting"), name="queue_entry_waiting"),
            models.Index(fields=["-priority", "place_at"], condition=Q(status__in=["waiting", "offered"]),
                         name="queue_entry_line"),
        ]

    def __str__(self):
        return f"{self.call_id} in {self.queue} ({self.status})"

    @property
    def ready(self) -> bool:
        """Whether the dispatcher may offer it (a call must be in Telnyx's queue first; a missed call-back waits)."""
        if self.not_before is not None and self.not_before > timezone.now():
            return False
        return self.status == self.Status.WAITING and (self.kind == self.Kind.CALLBACK or self.entered_at is not None)


class Offer(models.Model):
    """One agent's phone ringing for a queue entry, and what came of it.

    At most one live (ringing or connected) offer per agent: the database
    refuses a second, whatever runs concurrently.
    """

    class Status(models.TextChoices):
        RINGING = "ringing"
        CONNECTED = "connected"
        ENDED = "ended"  # connected, then the agent's leg ended
        MISSED = "missed"  # rang out
        DECLINED = "declined"
        CANCELLED = "cancelled"  # the caller left, or another agent answered first
        FAILED = "failed"  # the phone could not be reached

    class Kind(models.TextChoices):
        QUEUE = "queue"  # routed by the dispatcher
        CONSULT = "consult"  # a warm transfer: joins the call of another offer

    LIVE = (Status.RINGING, Status.CONNECTED)

    entry = models.ForeignKey(QueueEntry, on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="offers")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.QUEUE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RINGING)
    end_reason = models.CharField(max_length=40, blank=True)
    dial_to = models.CharField(max_length=255)
    agent_call_control_id = models.CharField(max_length=255, blank=True, db_index=True)
    agent_call = models.ForeignKey("calls.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    customer_call = models.ForeignKey(
        "calls.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The caller's leg in the conference (the queued call, or the call-back leg).",
    )
    conference_name = models.CharField(max_length=100, blank=True)
    conference_id = models.CharField(max_length=64, blank=True)
    held = models.BooleanField(default=False)
    muted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    disposition = models.ForeignKey(Disposition, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    notes = models.TextField(blank=True)
    wrapped_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["agent"], condition=Q(status__in=["ringing", "connected"]),
                                    name="offer_one_live_per_agent"),
        ]
        indexes = [models.Index(fields=["created_at"], condition=Q(status="ringing"), name="offer_ringing")]

    @property
    def awaits_wrap_up(self) -> bool:
        """A call the agent talked on and has not yet given a disposition (a call-back
        the customer never answered had no conversation to wrap up)."""
        return (self.status == self.Status.ENDED and self.answered_at is not None and self.wrapped_at is None
                and self.end_reason != "callback not answered")

    def __str__(self):
        return f"offer {self.pk} of entry {self.entry_id} to {self.agent_id} ({self.status})"

    @property
    def live(self) -> bool:
        return self.status in self.LIVE


class Transfer(models.Model):
    """An agent handing a connected caller on: blind or warm, to an agent, a queue or a number."""

    class Mode(models.TextChoices):
        BLIND = "blind"
        WARM = "warm"

    class Target(models.TextChoices):
        AGENT = "agent"
        QUEUE = "queue"
        NUMBER = "number"

    class Status(models.TextChoices):
        RINGING = "ringing"  # warm: the consulted party's phone rings
        CONSULTING = "consulting"  # warm: agent and party talk, the caller holds
        COMPLETED = "completed"
        CANCELLED = "cancelled"
        FAILED = "failed"

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="transfers")
    mode = models.CharField(max_length=5, choices=Mode.choices)
    target = models.CharField(max_length=6, choices=Target.choices)
    to_agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_queue = models.ForeignKey(Queue, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_number = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    consult_offer = models.ForeignKey(Offer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    consult_call = models.ForeignKey("calls.Call", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    LIVE = (Status.RINGING, Status.CONSULTING)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.mode} transfer of offer {self.offer_id} to {self.target}"
