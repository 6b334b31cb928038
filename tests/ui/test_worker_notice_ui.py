"""The worker notice as a user sees it: a run nobody took, on its progress page in Chromium."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from models_zoo.models import TrainingRun

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def test_a_run_no_worker_took_says_so_with_the_command(login, live_server, project, owner, shot, settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    run = TrainingRun.objects.create(project=project, backend="embedding_head")
    TrainingRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - dt.timedelta(seconds=75))
    page = login(owner)
    page.goto(f"{live_server.url}/models/runs/{run.pk}/")
    notice = page.locator(".worker-notice")
    notice.wait_for()
    assert re.search(r"No worker has taken this job for [789]\d s: no worker is running", notice.inner_text())
    assert "-m celery -A config worker -Q celery --loglevel=INFO" in notice.locator("code.command").inner_text()
    shot(page, "run-waiting")
