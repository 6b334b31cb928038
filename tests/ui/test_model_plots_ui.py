"""Issue 13 in a real Chromium: the styled runs pages, the version plots, promotion with the
confirmation (a worse version warns), versions side by side, the attention view, the map."""
from __future__ import annotations

import numpy as np
import pytest

from annotator.models import Annotation
from models_zoo.models import ModelVersion, TrainingRun
from models_zoo.services.versions import promote_version
from tests.web.test_model_plots import _version

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]

HISTORY = [{"epoch": 1, "train_loss": 0.9, "val_loss": 0.8}, {"epoch": 2, "train_loss": 0.5, "val_loss": 0.6},
           {"epoch": 3, "train_loss": 0.35, "val_loss": 0.62}]


def test_plots_promotion_with_confirmation_and_compare(login, live_server, project, owner, shot):
    run = TrainingRun.objects.create(project=project, backend="transformer_classifier", state="succeeded",
                                     progress=1.0, epoch=3, loss=0.35, created_by=owner,
                                     log="2026-12-01 10:00:00 queued\n2026-12-01 10:00:01 started\n")
    current = promote_version(_version(project, history=HISTORY, n_val=120))
    current.run = run
    current.save()
    worse = _version(project, history=HISTORY[:2],
                     scores=np.array([[0.3, 0.6], [0.2, 0.4], [0.7, 0.8], [0.6, 0.3]]))
    page = login(owner)
    page.goto(f"{live_server.url}/models/projects/{project.pk}/runs/")
    assert page.locator("#runs tbody tr").count() == 1
    shot(page, "runs")
    page.goto(f"{live_server.url}/models/runs/{run.pk}/")
    assert page.locator("#run-log").is_visible()
    assert page.locator("#run-loss svg circle.pt").count() == 6
    shot(page, "run-detail")

    page.goto(f"{live_server.url}/models/projects/{project.pk}/versions/")
    shot(page, "versions")
    page.click(f"#version-{worse.pk} a[href='/models/versions/{worse.pk}/']")
    page.wait_for_selector("#pr-plot")
    for plot in ("#pr-plot", "#roc-plot", "#loss-plot"):
        assert page.locator(plot).is_visible()
        assert page.locator(f"{plot} circle.pt").count() > 0, plot
    assert page.locator("#confusion-table td.cell").count() == 9
    box = page.locator("#roc-plot").bounding_box()
    assert box["width"] > 250 and box["height"] > 150
    shot(page, "version-plots")

    page.click("#promote-link")
    page.wait_for_selector("#promote-warnings")
    assert f"worse than the current version #{current.pk}" in page.inner_text("#promote-warnings")
    assert "fewer than 30 examples" in page.inner_text("#promote-rule")
    shot(page, "promote-confirm")
    page.click("#promote-confirm")
    page.wait_for_url(f"**/models/projects/{project.pk}/versions/")
    assert ModelVersion.objects.get(is_current=True) == worse
    assert page.locator(f"#version-{worse.pk}.current").count() == 1

    page.click("#compare-link")
    page.wait_for_selector("#compare-table")
    assert page.locator("#compare-table tbody tr").count() == 2
    assert page.locator("#compare-roc-plot polyline.series").count() == 4
    shot(page, "compare")
    assert page.dialogs == []


@pytest.mark.slow  # trains the tiny AT-BiLSTM for 8 epochs so attention is uneven (~15 s here);
# the fast check of the same page: tests/web/test_model_plots.py
def test_the_attention_view(login, live_server, project, owner, shot, tmp_path):
    from models_zoo.serving import get_model_cache
    from tests.models_zoo.prediction_fixtures import store_artifact
    from tests.models_zoo.tiny_attention_bilstm import make_case
    from tests.web.helpers import add_examples

    texts = ["flood water rising downtown", "cats sleeping on a sofa", "the river burst its banks after the storm"]
    add_examples(project, texts)
    backend, train, val, _ = make_case(tmp_path)
    backend.fit(train, val)
    backend.save(tmp_path / "artifact")
    key, checksum = store_artifact(tmp_path / "artifact", project.pk)
    version = ModelVersion.objects.create(project=project, backend="attention_bilstm",
                                          artifact_dir=key, artifact_checksum=checksum,
                                          labels=list(backend.labels),
                                          thresholds=backend.thresholds, metrics=backend.metrics)
    get_model_cache().clear()
    page = login(owner)
    page.goto(f"{live_server.url}/models/versions/{version.pk}/")
    page.click("#explain-link")
    page.wait_for_selector(".explain-row")
    assert page.locator(".explain-row").count() == len(texts)
    assert page.locator(".explain-row .tok").count() == sum(len(t.split()) for t in texts)
    assert "threshold" in page.inner_text(".explain-row >> nth=0")
    shot(page, "explain")
    assert page.dialogs == []


def test_the_embedding_map(login, live_server, project, owner, shot, settings, tmp_path):
    from annotator.services import embeddings as E
    from models_zoo.services.embedding_map import compute_map
    from tests.models_zoo.tiny_hf import tiny_bert_dir
    from tests.web.helpers import add_examples

    # Four points keep this walk fast (the PCA layout); real UMAP: tests/models_zoo/test_embedding_map.py
    examples = add_examples(project, ["flood water rising downtown", "cats sleeping on a sofa",
                                      "earthquake shook the city", "my cat likes the sun"])
    for e, label in zip(examples[:3], ["HS", "TR", "HS"], strict=True):
        Annotation.objects.create(example=e, user=owner, labels=[label], source="human")
    tiny = E.request_embedding_set(project, str(tiny_bert_dir()), enqueue=False)
    E.embed_inline(tiny)
    page = login(owner)
    page.goto(f"{live_server.url}/models/projects/{project.pk}/versions/")
    page.click("#map-link")
    page.click("#map-compute")
    page.wait_for_selector("#map-pending")
    compute_map(project.pk)  # what the worker runs (tests/integration/test_embedding_map_worker.py)
    page.goto(f"{live_server.url}/models/projects/{project.pk}/map/")
    points = page.locator("#embedding-map circle.map-point")
    assert points.count() == 4
    assert "cats sleeping on a sofa" in page.locator(f"#embedding-map a[data-example='{examples[1].pk}'] title").text_content()
    shot(page, "map")
    page.locator(f"#embedding-map a[data-example='{examples[1].pk}'] circle").click()
    page.wait_for_url(f"**/projects/{project.pk}/examples/{examples[1].pk}/")
    assert page.dialogs == []
