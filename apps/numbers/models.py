"""Phone numbers the center owns, where a call to each one goes, and the jobs that change them.

A number is bought (or imported) at Telnyx, routed here, and may carry a
tracking source. Releasing a number deletes it at Telnyx but keeps the row:
its calls keep pointing at it, and the call log keeps its history. A
released number is no longer routable (a call to it is rejected like a call
to any number we do not own).
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.numbers.validation import destination_normalize, validate_e164


class PhoneNumberQuerySet(models.QuerySet):
    def routable(self):
        """Numbers calls may reach: everything not released (a number being released still rings)."""
        return self.exclude(status=PhoneNumber.Status.RELEASED)


class PhoneNumber(models.Model):
    class Route(models.TextChoices):
        GREETING = "greeting", "Greeting message"  # answer, speak the greeting, hang up
        IVR = "ivr", "IVR"
        QUEUE = "queue", "Queue"
        FORWARD = "forward", "Forward to a number or SIP URI"
        AGENT = "agent", "Agent"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RELEASING = "releasing", "Being released"
        RELEASED = "released", "Released"

    # The field each route needs filled in.
    ROUTE_TARGETS = {Route.IVR: "ivr", Route.QUEUE: "queue", Route.FORWARD: "forward_to", Route.AGENT: "agent"}

    e164 = models.CharField(
        "number", max_length=20, unique=True, validators=[validate_e164], help_text="E.164, e.g. +13125550100"
    )
    telnyx_id = models.CharField(max_length=64, blank=True, db_index=True)
    connection_id = models.CharField(max_length=64, blank=True)
    label = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    released_at = models.DateTimeField(null=True, blank=True)
    # What Telnyx told us when we bought or imported it.
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2")
    number_type = models.CharField(max_length=20, blank=True, help_text="local, toll_free, mobile...")
    locality = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True, help_text="State or province")
    features = models.JSONField(default=list, blank=True, help_text='e.g. ["voice", "sms"]')

    route = models.CharField(max_length=20, choices=Route.choices, default=Route.GREETING)
    greeting = models.TextField(blank=True, help_text="Spoken by the greeting route.")
    ivr = models.ForeignKey("ivr.IvrFlow", null=True, blank=True, on_delete=models.PROTECT, related_name="numbers")
    queue = models.ForeignKey("queues.Queue", null=True, blank=True, on_delete=models.PROTECT, related_name="numbers")
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="numbers")
    queue_priority = models.PositiveSmallIntegerField(
        "caller priority", default=0, validators=[MaxValueValidator(100)],
        help_text="Queue route: callers of this number are served before those of lower priority who waited "
                  "longer (e.g. a premium support line). 0 = usual.",
    )
    forward_to = models.CharField(max_length=255, blank=True, help_text="E.164 number or sip: URI")
    forward_timeout = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(120)],
        help_text="Seconds the forward destination may ring before the caller hears that nobody answered.",
    )

    # Call tracking: where the callers of this number come from. Each call
    # keeps a copy, so changing the source later does not rewrite history.
    tracking_source = models.CharField(
        "source", max_length=100, blank=True, help_text='Where callers found this number, e.g. "Google Ads".'
    )
    tracking_campaign = models.CharField("campaign tag", max_length=100, blank=True)
    whisper = models.CharField(
        max_length=300, blank=True,
        help_text="Forwarded calls: spoken to the person who answers before the caller is connected "
                  "(empty: no whisper). {source} and {campaign} are replaced.",
    )
    record_calls = models.BooleanField(default=False, help_text="Forwarded calls: record the conversation.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PhoneNumberQuerySet.as_manager()

    class Meta:
        ordering = ["e164"]

    def __str__(self):
        return f"{self.e164} {self.label}".strip()

    @property
    def is_released(self) -> bool:
        return self.status == self.Status.RELEASED

    def clean(self):
        field = self.ROUTE_TARGETS.get(self.route)
        if field and not getattr(self, field if field == "forward_to" else f"{field}_id"):
            raise ValidationError({field: f"Choose where the {self.get_route_display()} route goes."})
        if self.forward_to:
            try:
                self.forward_to = destination_normalize(self.forward_to)
            except ValidationError as exc:
                raise ValidationError({"forward_to": exc.messages}) from None

    def whisper_text(self) -> str:
        """The whisper with its placeholders filled ('' when there is none)."""
        if not self.whisper.strip():
            return ""
        return self.whisper.replace("{source}", self.tracking_source or "an untracked source").replace(
            "{campaign}", self.tracking_campaign or ""
        ).strip()


class NumberJob(models.Model):
    """Slow work on numbers that a page follows live: ordering, importing, releasing.

    Each step is saved as it completes, so a task that dies half-way resumes
    where it stopped: the periodic sweep queues again a job nobody holds a
    lease on and that has not moved for a while. ``order_sent_at`` is set
    *before* the order is POSTed: number orders carry no command_id, so once a
    POST may have reached Telnyx we look the order up by ``reference`` (its
    customer_reference), and the number up among the account's, instead of
    posting a second order.
    """

    class Kind(models.TextChoices):
        ORDER = "order"
        IMPORT = "import"
        RELEASE = "release"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    step = models.CharField(max_length=100, blank=True, help_text="What is happening now, for the page.")
    phone_number = models.CharField(max_length=20, blank=True, help_text="The number ordered or released.")
    number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    telnyx_order_id = models.CharField(max_length=64, blank=True)
    order_sent_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(
        null=True, blank=True,
        help_text="A runner holds the job until then (renewed at each step); a second delivery of its task waits.",
    )
    started_at = models.DateTimeField(
        default=timezone.now, help_text="When the current attempt started: the job's creation or its last retry."
    )
    requeues = models.PositiveSmallIntegerField(
        default=0, help_text="Times the sweep queued it again after its runner was lost (this attempt)."
    )
    details = models.JSONField(default=dict, blank=True, help_text="Order: settings and search row. Import: counts.")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="number_jobs"
    )
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One order per number at a time: a double click must not buy twice.
            models.UniqueConstraint(
                fields=["phone_number"], condition=Q(kind="order", status__in=["queued", "running"]),
                name="number_job_one_open_order",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.phone_number} ({self.status})"

    @property
    def customer_reference(self) -> str:
        return f"contactcenter-{self.reference}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class CallerLookup(models.Model):
    """Telnyx Number Lookup ``caller-name`` results, one row per caller number.

    A fresh row answers without asking Telnyx again; ``claimed_at`` marks a
    lookup in flight so concurrent calls from one number cause one lookup.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        FAILED = "failed"

    phone_number = models.CharField(max_length=20, unique=True)
    caller_name = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    claimed_at = models.DateTimeField(default=timezone.now)
    looked_up_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-looked_up_at"]

    def __str__(self):
        return f"{self.phone_number}: {self.caller_name or '(no name)'}"

    def is_fresh(self, ttl: timedelta, now=None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.DONE and self.looked_up_at is not None and self.looked_up_at > now - ttl
