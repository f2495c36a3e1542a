"""IVR flows that admins build (nodes, options, schedules: see issue "IVRs")."""

from django.db import models


class IvrFlow(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "IVR flow"

    def __str__(self):
        return self.name
