"""Call queues (members, strategy, announcements, overflow: see issue "Queues")."""

from django.db import models


class Queue(models.Model):
    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
