"""IVR flows that admins build, and the path each call took through one.

A flow is a graph of nodes addressed by a short ``key`` (unique in the flow):
options, branches and fallbacks name the key of the node they lead to. Keys
rather than foreign keys let an admin save a whole flow in one request (nodes
may point forwards and in loops); ``apps.ivr.validation`` refuses a flow in
which any key points nowhere, so the engine can trust the graph it runs.
"""

from django.conf import settings
from django.db import models


class IvrFlow(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    entry_key = models.CharField(max_length=40, default="", help_text="The node a call starts at.")
    fallback_key = models.CharField(
        max_length=40, blank=True,
        help_text="Where a call goes when it reaches the step limit (empty: the call is hung up).",
    )
    max_steps = models.PositiveSmallIntegerField(
        default=50, help_text="Steps a call may take before the fallback runs, so no caller circles forever."
    )
    voice = models.CharField(max_length=100, blank=True, help_text="Default text-to-speech voice of the prompts.")
    language = models.CharField(max_length=10, blank=True, help_text="Default language (basic voices only).")
    version = models.PositiveIntegerField(default=1, help_text="Raised on every save; stale edits are refused.")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "IVR flow"

    def __str__(self):
        return self.name


class IvrNode(models.Model):
    class Kind(models.TextChoices):
        MENU = "menu", "Menu"
        MESSAGE = "message", "Message"
        QUEUE = "queue", "Enqueue"
        FORWARD = "forward", "Forward"
        VOICEMAIL = "voicemail", "Voicemail"
        HANGUP = "hangup", "Hang up"
        HOURS = "hours", "Business hours"

    flow = models.ForeignKey(IvrFlow, on_delete=models.CASCADE, related_name="nodes")
    key = models.SlugField(max_length=40)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    name = models.CharField(max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    prompt = models.JSONField(
        null=True, blank=True,
        help_text='{"type": "tts", "text", "voice", "language"} or {"type": "audio", "url"}',
    )
    # Everything else a kind needs (menu timing and fallback, message "next",
    # forward target, schedule...): validated as a whole when the flow is saved.
    settings = models.JSONField(default=dict, blank=True)
    queue = models.ForeignKey(
        "queues.Queue", null=True, blank=True, on_delete=models.PROTECT, related_name="ivr_nodes",
        help_text="Enqueue: the queue. Voicemail: the queue whose box takes the message (else the flow's box).",
    )

    class Meta:
        ordering = ["flow", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["flow", "key"], name="ivr_node_unique_key")]

    def __str__(self):
        return f"{self.flow}: {self.key} ({self.get_kind_display()})"


class IvrOption(models.Model):
    """A menu choice: keys pressed (and, optionally, words said) -> next node."""

    node = models.ForeignKey(IvrNode, on_delete=models.CASCADE, related_name="options")
    digits = models.CharField(max_length=4)
    speech = models.CharField(max_length=200, blank=True, help_text="Comma-separated phrases that also choose it.")
    target_key = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["node", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["node", "digits"], name="ivr_option_unique_digits")]

    def __str__(self):
        return f"{self.digits} -> {self.target_key}"

    @property
    def phrases(self) -> list[str]:
        return [p.strip().lower() for p in self.speech.split(",") if p.strip()]


class IvrStep(models.Model):
    """One step of a call's path through an IVR (a node visit, or a retry of a menu).

    Written by the engine as the call moves, so the agent who takes the call
    and the reports see which menus the caller went through and what they
    pressed or said. ``step`` is the call's step counter: unique per call, so
    a replayed webhook can never write a step twice.
    """

    class Outcome(models.TextChoices):
        SELECTED = "selected"
        INVALID = "invalid"
        TIMEOUT = "timeout"
        PLAYED = "played"
        OPEN = "open"
        CLOSED = "closed"
        ENQUEUED = "enqueued"
        FORWARDING = "forwarding"
        FORWARDED = "forwarded"
        NO_ANSWER = "no_answer", "No answer"
        RECORDED = "recorded"
        HUNG_UP = "hung_up", "Hung up"
        CALLER_HANGUP = "caller_hangup", "Caller hung up"
        STEP_LIMIT = "step_limit", "Step limit reached"
        MISSING = "missing", "Node missing"
        FAILED = "failed", "Could not run"

    call = models.ForeignKey("calls.Call", on_delete=models.CASCADE, related_name="ivr_steps")
    flow = models.ForeignKey(IvrFlow, null=True, blank=True, on_delete=models.SET_NULL, related_name="steps")
    step = models.PositiveIntegerField()
    node_key = models.CharField(max_length=40)
    node_kind = models.CharField(max_length=12, choices=IvrNode.Kind.choices, blank=True)
    node_name = models.CharField(max_length=100, blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    digits = models.CharField(max_length=32, blank=True)
    speech = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    next_key = models.CharField(max_length=40, blank=True)
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["call", "step"]
        constraints = [models.UniqueConstraint(fields=["call", "step"], name="ivr_step_unique_per_call")]

    def __str__(self):
        return f"{self.call_id} #{self.step} {self.node_key} {self.outcome}"

    @property
    def retried(self) -> bool:
        return self.next_key == self.node_key
