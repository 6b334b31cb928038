"""`manage.py mine`: the same service as REST, inline or queued, errors naming the field."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotator.models import MiningRun
from tests.annotator.mining_store import cosine_project


def test_inline_mining_prints_what_it_proposed(project):
    cosine_project(project)
    out = StringIO()
    call_command("mine", str(project.pk), "--label", "HS", "--band", "2", "--n", "1", "--inline", stdout=out)
    run = MiningRun.objects.get()
    assert (run.state, run.band, run.proposed) == ("succeeded", 2, 1)
    assert f"mining run {run.pk}: 1 proposed from band 2" in out.getvalue()


def test_queued_mining_says_so(project, django_capture_on_commit_callbacks):
    cosine_project(project)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("mine", project.name, "--label", "HS", "--band", "1", stdout=out)
    assert len(callbacks) == 1
    assert "queued" in out.getvalue() and MiningRun.objects.get().state == "queued"


def test_errors_name_the_field(project):
    cosine_project(project)
    with pytest.raises(CommandError, match="n: band 2 holds 2"):
        call_command("mine", str(project.pk), "--label", "HS", "--band", "2", "--n", "9", "--inline")
    with pytest.raises(CommandError, match="label: unknown label"):
        call_command("mine", str(project.pk), "--label", "XX")
