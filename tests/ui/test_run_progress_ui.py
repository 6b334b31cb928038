"""A running embedding_head run's progress panel in a real Chromium: the current phase
(encoding n of N), percent, no epoch, and the ETA (issue 13)."""
from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from models_zoo.models import RunState, TrainingRun
from models_zoo.services.training import append_log

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def test_a_running_embedding_head_run_shows_its_phase(login, live_server, project, owner, shot):
    run = TrainingRun.objects.create(project=project, backend="embedding_head", config={},
                                     state=RunState.RUNNING, started_at=timezone.now(),
                                     heartbeat_at=timezone.now(), progress=0.36, eta_seconds=12.0)
    append_log(run.pk, "started")
    append_log(run.pk, "encoding 4096 of 10000 texts")
    page = login(owner)
    page.goto(f"{live_server.url}/models/runs/{run.pk}/")
    assert page.inner_text("#run-phase") == "encoding 4096 of 10000 texts"
    assert page.inner_text("#run-percent") == "36%"
    stats = page.inner_text(".run-stats")
    assert "12 s" in stats and "Epoch\n–" in stats.replace("\t", "\n")
    shot(page, "run-progress-encoding")
    # The panel refreshes itself (htmx every second): the next phase appears without a reload.
    append_log(run.pk, "fitting the logistic regression head on 8000 examples")
    TrainingRun.objects.filter(pk=run.pk).update(progress=0.9, eta_seconds=1.0)
    expect(page.locator("#run-phase")).to_have_text(
        "fitting the logistic regression head on 8000 examples", timeout=10000)
    assert page.inner_text("#run-percent") == "90%"
    shot(page, "run-progress-fitting")
