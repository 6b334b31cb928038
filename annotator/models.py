"""Projects, label schemas, members, examples, annotations and assignments."""
from __future__ import annotations

import random

from django.conf import settings
from django.db import models

from annotator.images.storage import image_storage
from annotator.media import example_image_name


class TaskType(models.TextChoices):
    MULTILABEL = "multilabel", "Multi-label"
    SINGLELABEL = "singlelabel", "Single-label"
    BINARY = "binary", "Binary (accept / reject)"
    SPANS = "spans", "Spans"
    MULTIMODAL_MULTILABEL = "multimodal-multilabel", "Multi-modal multi-label"


class Normalization(models.TextChoices):
    # Seeds 000/001: drop @mentions, URLs and "RT ".
    STRIP = "strip", "Strip mentions and URLs (seeds 000/001)"
    # Seed 003 (BERTweet-style): map them to @USER / HTTPURL.
    PLACEHOLDERS = "placeholders", "@USER / HTTPURL placeholders (seed 003)"


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    ANNOTATOR = "annotator", "Annotator"
    VIEWER = "viewer", "Viewer"


class Project(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    task_type = models.CharField(max_length=32, choices=TaskType.choices)
    guidelines = models.TextField(blank=True)
    normalization = models.CharField(
        max_length=16, choices=Normalization.choices, default=Normalization.STRIP
    )
    # Each example goes to this many different annotators.
    overlap = models.PositiveSmallIntegerField(default=1)
    allow_overlapping_spans = models.BooleanField(default=False)
    # Order of the annotation queue: "random" now; later issues add active learning.
    queue_strategy = models.CharField(max_length=32, default="random")
    # The label the "likely_positive" strategy targets (issue 9).
    queue_label = models.CharField(max_length=100, blank=True, default="")
    # Retrain after every N new human annotations; null means off.
    retrain_every = models.PositiveIntegerField(null=True, blank=True)
    retrain_backend = models.CharField(max_length=64, default="embedding_head", blank=True)
    auto_promote = models.BooleanField(default=False)
    # The sample whose members the "sample" queue strategy serves.
    queue_sample = models.ForeignKey(
        "Sample", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Training defaults a run's config overrides (issue 12): what thresholds optimise on
    # validation ("" = the backend's default; models_zoo.thresholds.OBJECTIVES), label -> target
    # for target_recall / target_precision, and the validation split ({} = random 20%;
    # models_zoo.splits.ValidationSplit).
    threshold_objective = models.CharField(max_length=32, blank=True, default="")
    threshold_targets = models.JSONField(default=dict, blank=True)
    validation_split = models.JSONField(default=dict, blank=True)
    # Cold start (issue 18): the "query" strategy serves the examples nearest to these
    # descriptions of the class until the project has a current model of its own, then the
    # strategy named in queue_then.
    queue_query = models.JSONField(default=list, blank=True)
    queue_then = models.CharField(max_length=32, default="margin", blank=True)
    # Another project's model version (the previous event's detector): until this project has
    # a current model, its predictions on this pool drive likely_positive and the suggestions.
    transfer_model_version = models.ForeignKey(
        "models_zoo.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="projects"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Label(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=100)
    shortcut = models.CharField(max_length=1, blank=True)
    color = models.CharField(max_length=7, default="#3b82f6")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="label_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANNOTATOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} of {self.project}"


def new_queue_key() -> float:
    return random.random()


class Example(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="examples")
    text = models.TextField()
    normalized_text = models.TextField(blank=True)
    # created_at, lang, retweet_count, author, event, geo, and any mapped columns.
    meta = models.JSONField(default=dict, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    # sha256 of the normalized text: the dedupe key within a project.
    content_hash = models.CharField(max_length=64)
    # examples/<project>/<random token>.<ext>, served to members only (annotator/media.py).
    # Stored in the shared store (VIGIA_STORAGE_URL), see annotator/images/storage.py.
    image = models.FileField(upload_to=example_image_name, storage=image_storage, blank=True)
    image_width = models.PositiveIntegerField(null=True, blank=True)
    image_height = models.PositiveIntegerField(null=True, blank=True)
    # Random order key for the "random" queue strategy; indexed with the project.
    queue_key = models.FloatField(default=new_queue_key)
    # Number of annotators this example is assigned to (queue bookkeeping for overlap k).
    assigned_count = models.PositiveSmallIntegerField(default=0)
    # When the tweet was posted: meta["created_at"] parsed at import (X API `created_at`, CSV
    # date columns); indexed with the project so the daily prevalence index is one grouped query.
    posted_at = models.DateTimeField(null=True, blank=True)
    # Active-learning priority under the project's strategy from the current model version
    # (models_zoo.services.queue_scores); -1 = not scored yet (handed out last).
    # db_default too: imports that COPY rows in SQL get the same value.
    al_score = models.FloatField(default=-1.0, db_default=-1.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "content_hash"], name="example_unique_hash"),
        ]
        indexes = [
            models.Index(fields=["project", "assigned_count", "queue_key"], name="example_queue"),
            # The active-learning claim walks this one backwards and stops at the first row.
            models.Index(
                fields=["project", "assigned_count", "al_score", "queue_key"],
                name="example_al_queue",
            ),
            models.Index(fields=["project", "external_id"], name="example_external_id"),
            models.Index(fields=["project", "posted_at"], name="example_posted_at"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class AnnotationSource(models.TextChoices):
    HUMAN = "human", "Human"
    MODEL = "model", "Model"
    IMPORT = "import", "Import"
    # Mined as a difficult negative (seed 003) and used as a negative; any human decision wins.
    MINED = "mined", "Mined negative"
    # An admin's final decision on an example annotators disagree on; wins over the majority
    # vote in training (models_zoo.services.datasets). One per example; `user` = the adjudicator.
    ADJUDICATED = "adjudicated", "Adjudicated"


class Annotation(models.Model):
    """One current annotation per user and example; imported labels have no user."""

    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="annotations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="annotations",
    )
    # Label names (classification tasks).
    labels = models.JSONField(default=list, blank=True)
    # [{"start": int, "end": int, "label": str}] character offsets into Example.text.
    spans = models.JSONField(default=list, blank=True)
    source = models.CharField(
        max_length=12, choices=AnnotationSource.choices, default=AnnotationSource.HUMAN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # An adjudicator's final decision sits beside their own vote, if they voted.
            models.UniqueConstraint(
                fields=["example", "user"],
                condition=~models.Q(source="adjudicated"),
                name="annotation_one_per_user",
            ),
            models.UniqueConstraint(
                fields=["example"],
                condition=models.Q(source="adjudicated"),
                name="annotation_one_adjudicated",
            ),
            models.UniqueConstraint(
                fields=["example"],
                condition=models.Q(user__isnull=True),
                name="annotation_one_without_user",
            ),
        ]
        indexes = [models.Index(fields=["user", "updated_at"], name="annotation_user_recent")]


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


class Assignment(models.Model):
    """Annotation work: an example handed to one annotator (never twice to the same one)."""

    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    status = models.CharField(
        max_length=8, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["example", "user"], name="assignment_unique"),
        ]
        indexes = [models.Index(fields=["user", "status"], name="assignment_user_status")]


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """A large file imported by a Celery task; the admin watches its progress."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    path = models.CharField(max_length=500)
    original_name = models.CharField(max_length=255, blank=True)
    format = models.CharField(max_length=16)
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    total_bytes = models.BigIntegerField(default=0)
    processed_bytes = models.BigIntegerField(default=0)
    rows_seen = models.BigIntegerField(default=0)
    imported = models.BigIntegerField(default=0)
    duplicates = models.BigIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # "stop": all or nothing; "skip": bad records are left out and listed in `errors`.
    on_error = models.CharField(max_length=8, default="stop")
    skipped = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Beaten by the worker while it imports; a stale one means the worker died (the job is
    # reaped: failed, upload removed).
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    @property
    def progress(self) -> float:
        return 0.0 if not self.total_bytes else min(1.0, self.processed_bytes / self.total_bytes)


class Sample(models.Model):
    """A drawn stratified sample of a project's examples (seed 004, section 2.1).

    `design` keeps the request (field, boundaries or classes, take_all_above, allocation, size or
    target_cv, expected_p, seed); `strata` the drawn strata with N_h, n_h and weight N_h/n_h.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="samples")
    name = models.CharField(max_length=200, blank=True)
    field = models.CharField(max_length=200)
    design = models.JSONField(default=dict)
    strata = models.JSONField(default=list)
    population = models.PositiveIntegerField(default=0)
    size = models.PositiveIntegerField(default=0)
    seed = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name or f"sample {self.pk} on {self.field}"


class SampleMember(models.Model):
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="members")
    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="sample_members")
    # Index into Sample.strata.
    stratum = models.PositiveSmallIntegerField()
    weight = models.FloatField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "example"], name="sample_member_unique"),
        ]


# The embedding store's rows live in their own module (kept small); Django finds them here.
from annotator.models_embeddings import EmbeddingChunk, EmbeddingSet, EmbeddingState  # noqa: E402, F401

# Mining runs, proposals and negatives experiments (seed 003) live in their own module too.
from annotator.models_mining import MiningRun, NegativesExperiment, Proposal  # noqa: E402, F401

# Active-learning simulations (issue 9).
from annotator.models_simulation import Simulation, SimulationState  # noqa: E402, F401

# Celery workers' heartbeats (issue 19).
from annotator.models_workers import WorkerHeartbeat  # noqa: E402, F401
