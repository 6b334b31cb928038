"""Difficult-negative mining runs (seed 003), their proposals, and negatives experiments."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from annotator.models import Example, Project


class MiningState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class MiningMode(models.TextChoices):
    # Proposals go to a queue; annotators confirm them ("is it really not X?").
    PROPOSE = "propose", "Propose to annotators"
    # Straight into training: annotations with source "mined" (a human decision overrides).
    NEGATIVES = "negatives", "Use as negatives now"


class Tails(models.TextChoices):
    UPPER = "upper", "Above mu (seed 003)"
    BOTH = "both", "Both tails"


class MiningRun(models.Model):
    """One mining of difficult negatives for one label of a project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="mining_runs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    label = models.CharField(max_length=100)
    band = models.PositiveSmallIntegerField(default=2)
    tails = models.CharField(max_length=8, choices=Tails.choices, default=Tails.UPPER)
    # Null: as many as the label has positives (the seed's 864 negatives for 864 positives).
    n = models.PositiveIntegerField(null=True, blank=True)
    p = models.PositiveIntegerField(default=3000)
    seed = models.BigIntegerField(default=0)
    dedupe_threshold = models.FloatField(default=0.95)
    mode = models.CharField(max_length=16, choices=MiningMode.choices, default=MiningMode.PROPOSE)
    encoder = models.CharField(max_length=500, default="default")
    state = models.CharField(max_length=16, choices=MiningState.choices, default=MiningState.QUEUED)
    error = models.TextField(blank=True)
    # Results: the fitted normal, S_an histogram of the pool, counts.
    mu = models.FloatField(null=True, blank=True)
    sigma = models.FloatField(null=True, blank=True)
    histogram = models.JSONField(default=dict, blank=True)
    positives = models.PositiveIntegerField(default=0)
    pool_size = models.PositiveIntegerField(default=0)
    band_size = models.PositiveIntegerField(null=True, blank=True)
    examined = models.PositiveIntegerField(default=0)
    excluded_near_duplicates = models.PositiveIntegerField(default=0)
    excluded_same_text = models.PositiveIntegerField(default=0)
    proposed = models.PositiveIntegerField(default=0)
    # Wall time of the mining itself (load, score, fit, band, exclusions, draw, store).
    elapsed_s = models.FloatField(null=True, blank=True)
    # How often the task waited for the embedding set.
    waits = models.PositiveIntegerField(default=0)
    # The run whose pending proposals the "proposals" queue strategy serves (one per project).
    serves_queue = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"mining {self.label} band {self.band} ({self.state})"


class ProposalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED_NEGATIVE = "confirmed_negative", "Confirmed negative"
    TURNED_POSITIVE = "turned_positive", "Turned positive"
    # Mode "negatives": stored as a mined annotation, no human has looked at it yet.
    MINED_NEGATIVE = "mined_negative", "Used as a negative"


class Proposal(models.Model):
    """An example mined as a difficult negative; the run's band, mu and sigma travel with it."""

    run = models.ForeignKey(MiningRun, on_delete=models.CASCADE, related_name="proposals")
    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="mining_proposals")
    s_an = models.FloatField()
    band = models.PositiveSmallIntegerField()
    mu = models.FloatField()
    sigma = models.FloatField()
    status = models.CharField(
        max_length=20, choices=ProposalStatus.choices, default=ProposalStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-s_an", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "example"], name="proposal_unique"),
        ]
        indexes = [models.Index(fields=["run", "status"], name="proposal_run_status")]


class NegativesExperiment(models.Model):
    """Seed 003's comparison as a job: random vs 1-, 2-, 3-sigma negatives on held-out groups."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="negatives_experiments"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    label = models.CharField(max_length=100)
    group_field = models.CharField(max_length=100, default="event")
    seeds = models.JSONField(default=list)
    n_train_positives = models.PositiveIntegerField(default=864)
    test_ratio = models.PositiveSmallIntegerField(default=10)
    p = models.PositiveIntegerField(default=3000)
    encoder = models.CharField(max_length=500, default="default")
    state = models.CharField(max_length=16, choices=MiningState.choices, default=MiningState.QUEUED)
    error = models.TextField(blank=True)
    waits = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    elapsed_s = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]


__all__ = [
    "MiningMode",
    "MiningRun",
    "MiningState",
    "NegativesExperiment",
    "Proposal",
    "ProposalStatus",
    "Tails",
]
