"""Celery tasks of difficult-negative mining: thin wrappers over annotator.mining."""
from __future__ import annotations

from celery import shared_task


def _countdown(waits: int) -> float:
    # Small projects embed in seconds: look often at first, then every 10 s.
    return 1.0 if waits < 10 else 10.0


@shared_task(name="vigia.mine_negatives", bind=True, acks_late=True, ignore_result=True,
             max_retries=None)
def mine_negatives_task(self, run_id: int) -> str:
    """Mine MiningRun `run_id` (idempotent). Embeds first when the project has no ready
    embedding set: requests it, then retries with a countdown until it is ready (or failed)."""
    from annotator.mining.service import run_mining
    from annotator.models_mining import MiningRun

    outcome = run_mining(int(run_id))
    if outcome == "wait":
        waits = MiningRun.objects.filter(pk=run_id).values_list("waits", flat=True).first() or 0
        raise self.retry(countdown=_countdown(waits))
    return outcome


@shared_task(name="vigia.negatives_experiment", bind=True, acks_late=True, ignore_result=True,
             max_retries=None)
def negatives_experiment_task(self, experiment_id: int) -> str:
    """Run NegativesExperiment `experiment_id` (idempotent); waits for vectors like mining."""
    from annotator.mining.experiment_service import run_experiment
    from annotator.models_mining import NegativesExperiment

    outcome = run_experiment(int(experiment_id))
    if outcome == "wait":
        waits = NegativesExperiment.objects.filter(pk=experiment_id).values_list("waits", flat=True).first() or 0
        raise self.retry(countdown=_countdown(waits))
    return outcome
