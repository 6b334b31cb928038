"""Active-learning simulations on a project's own labelled data (issue 9)."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class SimulationState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Simulation(models.Model):
    """One simulation job: its parameters, progress and result (curves, AULC, labels to 95%)."""

    project = models.ForeignKey("annotator.Project", on_delete=models.CASCADE,
                                related_name="simulations")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    # {strategies, n0, batch, rounds, seeds, test_fraction, label, prevalence, start, target_f1}
    params = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=SimulationState.choices,
                             default=SimulationState.QUEUED)
    progress = models.FloatField(default=0.0)
    # {full_f1, full, curves, aulc, labels_to_95, labels_to_target, starts, sizes, recipe,
    #  n_examples} (models_zoo.active_learning.simulation)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
