"""The active-run conflict (issue 13): the message names the project, not "project 1", and the
page links the run in the way (REST gives its id and URL)."""
from __future__ import annotations

import pytest
from django.urls import reverse

from models_zoo.models import RunState, TrainingRun
from tests.web.helpers import client_for

pytestmark = pytest.mark.django_db


def test_the_conflict_names_the_project_and_links_the_active_run(project, owner, owner_api):
    active = TrainingRun.objects.create(project=project, backend="embedding_head", state=RunState.QUEUED)
    response = client_for(owner).post(
        reverse("models-start-run", args=[project.pk]), {"backend": "embedding_head"})
    page = response.content.decode()
    assert response.status_code == 409
    assert f"project &#x27;{project.name}&#x27; already has an active training run (run {active.pk}" in page
    assert f'href="{reverse("models-run", args=[active.pk])}"' in page and 'id="active-run-link"' in page
    rest = owner_api.post(f"/api/v1/projects/{project.pk}/train", {"backend": "embedding_head"}, format="json")
    assert rest.status_code == 409
    body = rest.json()
    assert body["detail"].startswith(f"project '{project.name}' already has an active training run")
    assert body["run"] == active.pk and body["run_url"] == reverse("api-run-detail", args=[active.pk])
