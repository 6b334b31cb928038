"""A refused page (403) is styled like the 404 and 500 pages, says which role it needs and
offers a way back; so is a failed CSRF check (issue 19's walk)."""
from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from models_zoo.models import ModelVersion
from tests.web.helpers import client_for

pytestmark = pytest.mark.django_db


def _assert_refused_page(response, project=None) -> str:
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="card narrow error-page"' in html and "<h1>Not allowed</h1>" in html
    assert 'class="topnav"' in html and "vigia.css" in html  # the site's frame, like 404.html
    assert f'href="{reverse("project-list")}"' in html  # a way back
    if project is not None:
        assert f'href="{reverse("project-detail", args=[project.pk])}" id="back-to-project"' in html
    return html


def test_a_viewer_refused_the_annotate_page_sees_which_role_it_needs(project, viewer):
    html = _assert_refused_page(client_for(viewer).get(reverse("annotate", args=[project.pk])), project)
    assert "needs the <strong>annotator</strong> role in multilabel project" in html
    assert "a <strong>viewer</strong> there" in html


@pytest.mark.parametrize("name", [
    "project-edit", "project-delete", "embeddings", "mining", "browse", "agreement",
    "models-config-fields",
])
def test_an_annotator_refused_an_admin_page_gets_the_styled_page(project, annotator_user, name):
    response = client_for(annotator_user).get(reverse(name, args=[project.pk]))
    html = _assert_refused_page(response, project)
    assert "needs the <strong>admin</strong> role" in html and "<strong>annotator</strong> there" in html


def test_the_refused_promote_page_links_back_to_the_project(project, viewer):
    version = ModelVersion.objects.create(project=project, backend="stepping", artifact_dir="/nowhere",
                                          labels=["HS"], metrics={})
    _assert_refused_page(client_for(viewer).get(reverse("models-promote", args=[version.pk])), project)


def test_a_refused_post_gets_the_styled_page_too(project, viewer):
    response = client_for(viewer).post(reverse("annotate-undo", args=[project.pk]))
    _assert_refused_page(response, project)


def test_a_failed_csrf_check_is_styled_and_says_nothing_was_saved(project, annotator_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(annotator_user)
    response = client.post(reverse("annotate-undo", args=[project.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="card narrow error-page"' in html and "vigia.css" in html
    assert "nothing was saved" in html and 'href="/"' in html
    assert "CSRF verification failed" not in html  # not Django's developer page
