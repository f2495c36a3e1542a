"""Phone numbers the center owns, and where a call to each one goes."""

from django.db import models


class PhoneNumber(models.Model):
    class Route(models.TextChoices):
        GREETING = "greeting", "Greeting message"  # answer, speak the greeting, hang up
        IVR = "ivr", "IVR"
        QUEUE = "queue", "Queue"
        FORWARD = "forward", "Forward to a number or SIP URI"
        AGENT = "agent", "Agent"

    # The field each route needs filled in.
    ROUTE_TARGETS = {Route.IVR: "ivr", Route.QUEUE: "queue", Route.FORWARD: "forward_to", Route.AGENT: "agent"}

    e164 = models.CharField("number", max_length=20, unique=True, help_text="E.164, e.g. +13125550100")
    telnyx_id = models.CharField(max_length=64, blank=True, db_index=True)
    connection_id = models.CharField(max_length=64, blank=True)
    label = models.CharField(max_length=100, blank=True)
    route = models.CharField(max_length=20, choices=Route.choices, default=Route.GREETING)
    greeting = models.TextField(blank=True, help_text="Spoken by the greeting route.")
    ivr = models.ForeignKey("ivr.IvrFlow", null=True, blank=True, on_delete=models.PROTECT, related_name="numbers")
    queue = models.ForeignKey("queues.Queue", null=True, blank=True, on_delete=models.PROTECT, related_name="numbers")
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="numbers")
    forward_to = models.CharField(max_length=255, blank=True, help_text="E.164 number or sip: URI")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["e164"]

    def __str__(self):
        return f"{self.e164} {self.label}".strip()

    def clean(self):
        from django.core.exceptions import ValidationError

        field = self.ROUTE_TARGETS.get(self.route)
        if field and not getattr(self, field if field == "forward_to" else f"{field}_id"):
            raise ValidationError({field: f"Choose where the {self.get_route_display()} route goes."})
