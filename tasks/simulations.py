"""Celery task: run one active-learning simulation (thin wrapper over the service)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="vigia.simulate", acks_late=True, reject_on_worker_lost=True)
def simulate_task(simulation_id: int) -> str:
    """Simulate and store the curves on the Simulation row; a redelivered finished job is a
    no-op, a redelivered running one starts over (the result is a pure function of its seeds)."""
    from models_zoo.services.simulations import run_simulation

    return run_simulation(simulation_id).state
