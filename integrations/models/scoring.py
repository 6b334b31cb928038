"""Batch scoring jobs: a file of texts scored by one model version in chunk tasks, the texts
never stored as examples; the results are a file that expires."""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from annotator.services.workers import last_activity


class ScoringState(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"  # succeeded; its results object was removed


class ScoringJob(models.Model):
    project = models.ForeignKey("annotator.Project", on_delete=models.CASCADE, related_name="scoring_jobs")
    model_version = models.ForeignKey(
        "models_zoo.ModelVersion", on_delete=models.CASCADE, related_name="scoring_jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=10, choices=ScoringState.choices, default=ScoringState.RUNNING)
    original_name = models.CharField(max_length=255, blank=True)
    input_format = models.CharField(max_length=8)
    output_format = models.CharField(max_length=8, default="jsonl")
    rows = models.PositiveIntegerField(default=0)
    chunk_size = models.PositiveIntegerField()
    total_chunks = models.PositiveIntegerField(default=0)
    done_chunks = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    queue = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    result_bytes = models.BigIntegerField(null=True, blank=True)
    # sha256 of the results object (`scoring/<job>/results.<format>` in the shared store): the
    # host serving the download checks its cached copy against it.
    result_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def progress(self) -> float:
        return 1.0 if not self.rows else min(1.0, self.scored / self.rows)

    def idle_since(self) -> datetime:
        """The job's last sign of work: its creation or the latest start or finish of one of its
        chunks (one aggregate over the (job, index) constraint's index). The worker notice of a
        running job reads it (annotator.services.workers.notice_for); its chunk tasks go to the
        job's own `queue` (the default one when blank)."""
        return last_activity(ScoringChunk.objects.filter(job_id=self.pk),
                             ("started_at", "finished_at"), self.created_at)


class ScoringChunk(models.Model):
    """Rows [first_row, first_row + rows) of the job's input: one Celery task. Its output is
    uploaded whole to the store, then `done` commits with the job's counters."""

    job = models.ForeignKey(ScoringJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_row = models.PositiveIntegerField()
    rows = models.PositiveIntegerField()
    state = models.CharField(max_length=8, default="pending")  # pending | running | done
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="scoring_chunk_unique")]
