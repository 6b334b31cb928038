"""Celery tasks of difficult-negative mining: thin wrappers over annotator.mining."""
from __future__ import annotations

from celery import shared_task


def _countdown(waits: int) -> float:
    # Small projects embed in seconds: look often at first, then every 10 s.
    return 1.0 if waits < 10 else 10.0


@shared_task(name="vigia.mine_negatives", acks_late=True, ignore_result=True)
def mine_negatives_task(run_id: int) -> str:
    """Mine MiningRun `run_id` (idempotent). Embeds first when the project has no ready
    embedding set: requests it, then sends itself again with a countdown (through
    config.enqueue, like every task message) until the set is ready (or failed)."""
    from annotator.models_mining import MiningRun
    from models_zoo.mining.service import enqueue, run_mining

    outcome = run_mining(int(run_id))
    if outcome == "wait":
        waits = MiningRun.objects.filter(pk=run_id).values_list("waits", flat=True).first() or 0
        enqueue(int(run_id), countdown=_countdown(waits))  # a refusal fails the run, with why
    return outcome


@shared_task(name="vigia.negatives_experiment", acks_late=True, ignore_result=True)
def negatives_experiment_task(experiment_id: int) -> str:
    """Run NegativesExperiment `experiment_id` (idempotent); waits for vectors like mining."""
    from annotator.models_mining import NegativesExperiment
    from models_zoo.mining.experiment_service import enqueue, run_experiment

    outcome = run_experiment(int(experiment_id))
    if outcome == "wait":
        waits = NegativesExperiment.objects.filter(pk=experiment_id).values_list("waits", flat=True).first() or 0
        enqueue(int(experiment_id), countdown=_countdown(waits))
    return outcome
