"""The one hook through which services announce what happened in a project.

Services call `emit(event, project_id, data)` where the thing happens (a promotion, a finished
run, import or prediction job); receivers (webhook delivery, in `integrations`) connect to
`event_emitted` in their AppConfig.ready(). The services stay free of webhook code, and an app
that is not installed simply receives nothing. A receiver that fails is logged, never raised
into the service: announcing an event must not undo or fail the work it reports.

`data` holds ids and states only (never texts). It may be a callable returning the data, or
None for "nothing to announce", so costly data (the days whose index changed) is computed only
when a receiver wants the event.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.dispatch import Signal

logger = logging.getLogger(__name__)

MODEL_PROMOTED = "model.promoted"
TRAINING_FINISHED = "training.finished"
IMPORT_FINISHED = "import.finished"
PREDICTION_JOB_FINISHED = "prediction_job.finished"
INDEX_UPDATED = "index.updated"
EVENTS = (MODEL_PROMOTED, TRAINING_FINISHED, IMPORT_FINISHED, PREDICTION_JOB_FINISHED, INDEX_UPDATED)

# Receivers: fn(sender=event name, project_id=int, data=Mapping | Callable, **kwargs).
event_emitted = Signal()

EventData = Mapping[str, Any] | Callable[[], Mapping[str, Any] | None]


def emit(event: str, project_id: int, data: EventData) -> None:
    """Announce `event` in project `project_id` to every receiver (see the module docstring).

    Call it inside the transaction that records the thing: receivers write their rows in it
    and send tasks once it commits, so a rolled-back change announces nothing."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; known: {', '.join(EVENTS)}")
    for receiver, outcome in event_emitted.send_robust(sender=event, project_id=project_id, data=data):
        if isinstance(outcome, Exception):
            logger.error("event %s (project %s): receiver %r failed: %r", event, project_id,
                         receiver, outcome, exc_info=outcome)
