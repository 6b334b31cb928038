"""Training runs, model versions and stored predictions (Django side of models_zoo)."""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from annotator.services.workers import last_activity


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_RUN_STATES = (RunState.QUEUED, RunState.RUNNING)


class TrainingRun(models.Model):
    project = models.ForeignKey(
        "annotator.Project", on_delete=models.CASCADE, related_name="training_runs"
    )
    backend = models.CharField(max_length=64)
    config = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.QUEUED)
    progress = models.FloatField(default=0.0)  # 0..1
    epoch = models.PositiveIntegerField(null=True, blank=True)
    loss = models.FloatField(null=True, blank=True)
    eta_seconds = models.FloatField(null=True, blank=True)
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    celery_task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Updated by the worker while it trains; a stale heartbeat means the worker died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Never two active runs of one project at once.
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(state__in=["queued", "running"]),
                name="one_active_run_per_project",
            ),
        ]

    @property
    def is_finished(self) -> bool:
        return self.state not in ACTIVE_RUN_STATES


class ModelVersion(models.Model):
    project = models.ForeignKey(
        "annotator.Project", on_delete=models.CASCADE, related_name="model_versions"
    )
    run = models.OneToOneField(
        TrainingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="model_version"
    )
    backend = models.CharField(max_length=64)
    config = models.JSONField(default=dict, blank=True)
    # The artifact's storage key (`<project>/<run>` under VIGIA_STORAGE_URL; never a host's
    # absolute path: every host reads it from the shared storage) and the sha256 of its
    # manifest, which each host's cached copy is checked against (config/storage).
    artifact_dir = models.CharField(max_length=500)
    artifact_checksum = models.CharField(max_length=64, blank=True, default="")
    labels = models.JSONField(default=list)
    thresholds = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    # Which annotations trained it and the seeded train/validation split (reproducibility).
    data_snapshot = models.JSONField(default=dict, blank=True)
    is_current = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    # Why auto-promotion did not promote it (e.g. validated on a different split), when it did not.
    promotion_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(is_current=True),
                name="one_current_model_per_project",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.backend} v{self.pk}"


class Prediction(models.Model):
    example = models.ForeignKey(
        "annotator.Example", on_delete=models.CASCADE, related_name="predictions"
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="predictions"
    )
    scores = models.JSONField(default=dict)
    labels = models.JSONField(default=list)
    spans = models.JSONField(default=list)
    # The span tagger's mean per-word confidence (marginal of the decoded tag); null for
    # classifiers. The active-learning queue ranks span examples by it (issue 9).
    confidence = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["example", "model_version"], name="prediction_unique"
            ),
        ]


class PredictionJobState(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    CANCELLED = "cancelled", "Cancelled"
    # The broker refused its chunk tasks; `error` says why, and resume sends them again.
    FAILED = "failed", "Failed"


class PredictionJob(models.Model):
    """Predicting a whole project with one version, split into chunks that run as separate
    Celery tasks (so N workers share it); progress, cancel and resume live here."""

    project = models.ForeignKey(
        "annotator.Project", on_delete=models.CASCADE, related_name="prediction_jobs"
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="prediction_jobs"
    )
    state = models.CharField(
        max_length=16, choices=PredictionJobState.choices, default=PredictionJobState.RUNNING
    )
    chunk_size = models.PositiveIntegerField()
    total_chunks = models.PositiveIntegerField(default=0)
    done_chunks = models.PositiveIntegerField(default=0)
    examples = models.PositiveIntegerField(default=0)
    predicted = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    queue = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    @property
    def progress(self) -> float:
        return 1.0 if not self.total_chunks else self.done_chunks / self.total_chunks

    def idle_since(self) -> datetime:
        """The job's last sign of work: its creation or the latest start or finish of one of
        its chunks (one aggregate over the (job, index) index). The worker notice of a running
        job reads it (annotator.services.workers.notice_for)."""
        return last_activity(PredictionChunk.objects.filter(job_id=self.pk),
                             ("started_at", "finished_at"), self.created_at)


class ChunkState(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class PredictionChunk(models.Model):
    """Examples of the job's project with first_id <= id <= last_id (at most chunk_size)."""

    job = models.ForeignKey(PredictionJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    examples = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=8, choices=ChunkState.choices, default=ChunkState.PENDING)
    # How many times a worker started it: 1 for a chunk never redone.
    attempts = models.PositiveSmallIntegerField(default=0)
    predicted = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="prediction_chunk_unique"),
        ]


class PredictionDay(models.Model):
    """A version's stored predictions per UTC calendar day of their examples' `posted_at`: the
    prevalence index's denominator, so the index reads O(days) rows instead of O(predictions).

    Kept by PostgreSQL triggers (migration 0006) in the statement that writes, re-writes or
    deletes the predictions, or moves an example's `posted_at`: every path (chunks, re-runs,
    deletions of examples, projects or versions) is counted in its own transaction. Undated
    examples are not counted (the index leaves them out). Rows with n = 0 are removed."""

    # No index of its own: the unique constraint's index starts with the version.
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    n = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_version", "day"], name="prediction_day_unique"),
        ]


class PredictionDayLabel(models.Model):
    """Predictions of a version that label `label` positive, per UTC day (the index's
    numerator), and the best-scored of them (a peak's examples); kept by the same triggers as
    PredictionDay. Rows with 0 are removed."""

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    label = models.CharField(max_length=100)
    day = models.DateField()
    positive = models.BigIntegerField()
    # [[score, example id], ...]: the 3 highest `label` scores among these predictions, best
    # first (ties: lower id). Null when one of them may have been deleted or re-written since:
    # the index recounts that day (models_zoo.services.prevalence).
    top = models.JSONField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "label", "day"], name="prediction_day_label_unique"
            ),
        ]
