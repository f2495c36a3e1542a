"""Phone numbers the center owns, and where a call to each one goes."""

from django.db import models


class PhoneNumber(models.Model):
    class Route(models.TextChoices):
        # Answer, speak the greeting, hang up. Later routes (IVR, queue,
        # forward, agent) are added by the apps that implement them.
        GREETING = "greeting", "Greeting message"

    e164 = models.CharField("number", max_length=20, unique=True, help_text="E.164, e.g. +13125550100")
    telnyx_id = models.CharField(max_length=64, blank=True, db_index=True)
    connection_id = models.CharField(max_length=64, blank=True)
    label = models.CharField(max_length=100, blank=True)
    route = models.CharField(max_length=20, choices=Route.choices, default=Route.GREETING)
    greeting = models.TextField(blank=True, help_text="Spoken by the greeting route.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["e164"]

    def __str__(self):
        return f"{self.e164} {self.label}".strip()
