"""After a promotion the page says what happened and that predictions are being refreshed,
then follows the refresh live (issue 19's walk)."""
from __future__ import annotations

import pytest

from models_zoo.models import PredictionJob, PredictionJobState
from models_zoo.services.versions import promote_version
from tests.web.helpers import HTMX, add_examples, client_for
from tests.web.test_models_pages import _version

pytestmark = pytest.mark.django_db


def test_promoting_says_what_happened_and_that_predictions_are_being_refreshed(
        project, owner, django_capture_on_commit_callbacks):
    add_examples(project, [f"tweet {i}" for i in range(5)])
    old = promote_version(_version(project))
    new = _version(project)
    client = client_for(owner)
    with django_capture_on_commit_callbacks(execute=True):  # the refresh job starts on commit
        response = client.post(f"/models/versions/{new.pk}/promote", {"confirm": "1"}, follow=True)
    page = response.content.decode()
    assert (f"Version #{new.pk} (stepping) is now the current model of {project.name}, replacing #{old.pk}: "
            "the prediction API answers with it from now on.") in page
    assert "are being refreshed in the background" in page
    # ... and the refresh itself, live (the job starts once the promotion commits): the job over
    # the project's 5 examples.
    job = PredictionJob.objects.get(model_version=new)
    page = client.get(f"/models/projects/{project.pk}/versions/").content.decode()
    start = page.index('<p class="card prediction-refresh')
    block = page[start:page.index("</p>", start)]
    assert "Refreshing predictions</strong> with the current version" in block
    assert '<span id="refresh-count">0 of 5</span>' in block
    assert f'hx-get="/models/projects/{project.pk}/prediction-refresh"' in block  # polls
    assert f'href="/models/projects/{project.pk}/versions/"' in block  # and keeps a link
    # Once every part is in, the partial says so and stops the polling (286).
    PredictionJob.objects.filter(pk=job.pk).update(done_chunks=job.total_chunks, predicted=5,
                                                   state=PredictionJobState.SUCCEEDED)
    partial = client.get(f"/models/projects/{project.pk}/prediction-refresh", **HTMX)
    assert partial.status_code == 286
    assert "Predictions are up to date with the current version" in partial.content.decode()
    assert "hx-get" not in partial.content.decode()


def test_promoting_the_current_version_says_nothing_changed(project, owner):
    current = promote_version(_version(project))
    page = client_for(owner).post(f"/models/versions/{current.pk}/promote", {"confirm": "1"},
                                  follow=True).content.decode()
    assert f"Version #{current.pk} was already the current model" in page


def test_promoting_a_version_that_predicted_everything_says_suggestions_use_it_now(project, owner):
    promote_version(_version(project))
    new = _version(project)
    # Its own earlier job covered every example (as a training run's stop set can in a small project).
    PredictionJob.objects.create(project=project, model_version=new, chunk_size=2048, examples=0,
                                 state=PredictionJobState.SUCCEEDED)
    page = client_for(owner).post(f"/models/versions/{new.pk}/promote", {"confirm": "1"},
                                  follow=True).content.decode()
    assert "It had predicted every example already: the annotate page&#x27;s suggestions come from it now." in page
