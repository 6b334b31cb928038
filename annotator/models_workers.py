"""Celery workers' heartbeats: the one place the web pages learn whether any worker runs."""
from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """A running Celery worker (its main process), seen every few seconds.

    Written by the worker itself (tasks/worker_heartbeat.py), so it works the same with every
    broker (Redis, `filesystem://`) and across machines: only the database is shared. A worker
    that stops cleanly deletes its row; one that dies leaves a row that stops being refreshed.
    """

    hostname = models.CharField(max_length=255, unique=True)
    # The queues it consumes, comma-separated ("celery,gpu").
    queues = models.CharField(max_length=500)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return f"worker {self.hostname} ({self.queues}), seen {self.seen_at:%H:%M:%S}"

    @property
    def queue_names(self) -> list[str]:
        return [q for q in self.queues.split(",") if q]
