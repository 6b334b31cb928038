"""Sample design (htmx preview, draw), the sample page with estimates and the prevalence index
chart in a real Chromium; screenshots in test-artifacts/ui/."""

from __future__ import annotations

import datetime as dt

import pytest

from annotator.models import Annotation, Sample
from models_zoo.models import ModelVersion, Prediction
from tests.web.helpers import add_examples

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def test_designing_previewing_and_drawing_a_sample(
    login, live_server, project, owner, annotator_user, shot
):
    examples = add_examples(project, [f"tweet {i}" for i in range(40)])
    for i, ex in enumerate(examples):
        ex.meta = {"retweet_count": 0 if i < 25 else (7 if i < 37 else 5000)}
        ex.save()
    page = login(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/samples/")
    page.fill("input[name=field]", "retweet_count")
    page.fill("input[name=cuts]", "1")
    page.fill("input[name=take_all_above]", "1000")
    page.select_option("select[name=sizing]", "size")
    page.fill("input[name=size]", "12")
    page.fill("input[name=seed]", "4")
    page.click("#preview-button")
    page.wait_for_selector("#preview-table")
    rows = page.locator("#preview-table tbody tr").all_inner_texts()
    assert rows[2].startswith(">= 1000 (take-all)\t3\t3")
    assert not Sample.objects.exists()  # a preview draws nothing
    shot(page, "preview")
    page.fill("input[name=cuts]", "1, 7.5")  # leaves [7.5, 1000) empty
    page.click("#preview-button")
    page.wait_for_selector("#preview-error")
    assert "fewer than 2 examples" in page.inner_text("#preview-error")
    shot(page, "preview-error")
    page.fill("input[name=cuts]", "1")
    page.click("#draw-button")
    page.wait_for_selector("#estimates")
    sample = Sample.objects.get()
    assert sample.size == 12 and sample.members.count() == 12
    for m in sample.members.all():
        Annotation.objects.create(
            example_id=m.example_id, user=annotator_user, labels=["HS"] if m.stratum == 2 else []
        )
    page.click("#queue-button")
    page.wait_for_selector("#queued")
    page.reload()
    hs = page.locator("#estimates tbody tr").first.inner_text()
    # HS only in the take-all stratum: p = 3/40 exactly, with no variance.
    assert hs.startswith("AG") or "0.0750" in page.inner_text("#estimates")
    assert "0.0750" in page.inner_text("#estimates")
    shot(page, "sample-page")
    project.refresh_from_db()
    assert (project.queue_strategy, project.queue_sample_id) == ("sample", sample.pk)


def test_the_index_chart_shows_series_peaks_and_the_corrected_band(
    login, live_server, project, owner, annotator_user, shot
):
    v1 = ModelVersion.objects.create(
        project=project,
        backend="embedding_head",
        artifact_dir="/x",
        labels=["HS", "TR", "AG"],
        is_current=True,
    )
    v2 = ModelVersion.objects.create(
        project=project, backend="embedding_head", artifact_dir="/x", labels=["HS", "TR", "AG"]
    )
    examples = add_examples(project, [f"day tweet {i}" for i in range(300)])
    start = dt.datetime(2019, 3, 1, 12, tzinfo=dt.UTC)
    for i, ex in enumerate(examples):
        day = i // 10
        ex.posted_at = start + dt.timedelta(days=day)
        ex.save()
        # Share rises and falls with a spike on day 20.
        hs = (i % 10) < (9 if day == 20 else 1 + (day % 7) // 2)
        for v, flip in ((v1, False), (v2, i % 13 == 0)):
            Prediction.objects.create(
                example=ex,
                model_version=v,
                labels=["HS"] if hs != flip else [],
                scores={"HS": 0.8 if hs else 0.2},
            )
        if i % 7 == 0:
            truth = hs if i % 21 else not hs
            Annotation.objects.create(
                example=ex, user=annotator_user, labels=["HS"] if truth else []
            )
    page = login(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/index/?label=HS&compare={v2.pk}")
    page.wait_for_selector("#index-chart")
    assert page.locator("#index-chart polyline.moving-average").count() == 1
    assert page.locator("#index-chart circle.peak").count() >= 1
    assert page.locator("#index-chart polygon.band").count() == 1
    assert "2019-03-21" in page.inner_text("#peaks")
    assert float(page.inner_text("#pearson")) > 0.5
    shot(page, "index")
    page.goto(f"{live_server.url}/projects/{project.pk}/index/?label=HS&window=x")
    assert "window" in page.inner_text("#index-error")
