"""Plots of the version page, the compare page, the promote confirm page, the attention view
and the embedding map (issue 13), through Django's test client."""
from __future__ import annotations

import re

import numpy as np
import pytest
from django.test import Client

from models_zoo.backends import _classify as C
from models_zoo.models import ModelVersion
from models_zoo.services.versions import promote_version

pytestmark = pytest.mark.django_db

Y = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
S = np.array([[0.9, 0.6], [0.4, 0.7], [0.6, 0.2], [0.1, 0.1]])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _version(project, f1_shift=0.0, history=None, n_val=4, scores=None) -> ModelVersion:
    # threshold 0.5 on both labels: predicted [[1,1],[0,1],[1,0],[0,0]]
    thresholds, metrics = C.calibrate_and_measure(Y, S if scores is None else scores, ["HS", "TR"],
                                                  "multilabel", "none")
    metrics["f1_macro"] += f1_shift
    if history:
        metrics["history"] = history
    return ModelVersion.objects.create(project=project, backend="transformer_classifier", artifact_dir="/nowhere",
                                       labels=["HS", "TR"], thresholds=thresholds, metrics=metrics,
                                       data_snapshot={"counts": {"train": 20, "validation": n_val}})


def _section(page: str, marker: str, end: str) -> str:
    start = page.index(marker)
    return page[start:page.index(end, start)]


def test_the_version_page_draws_pr_roc_confusion_and_loss(project, viewer):
    version = _version(project, history=[{"epoch": 1, "train_loss": 0.9, "val_loss": 0.8},
                                         {"epoch": 2, "train_loss": 0.5, "val_loss": 0.6},
                                         {"epoch": 3, "train_loss": 0.3, "val_loss": 0.7}])
    page = client_for(viewer).get(f"/models/versions/{version.pk}/").content.decode()
    roc = _section(page, 'id="roc-plot"', "</svg>")
    # HS: scores .9(+) .6(-) .4(+) .1(-): five ROC points, AUC 0.75
    # x = 44 + fpr * 304, y = 12 + (1 - tpr) * 188
    assert ('data-series="HS (AUC 0.750)" fill="none" stroke="#2563eb" stroke-width="2" '
            'points="44.0,200.0 44.0,106.0 196.0,106.0 196.0,12.0 348.0,12.0"') in roc
    assert roc.count('class="pt"') == 10  # five points per label
    pr = _section(page, 'id="pr-plot"', "</svg>")
    assert "HS (AP 0.833)" in pr and pr.count('class="marker"') == 2  # the operating points
    table = _section(page, 'id="confusion-table"', "</table>")
    cells = [int(c) for c in re.findall(r'<td class="cell[^"]*"[^>]*>(\d+)</td>', table)]
    # gold HS -> predicted HS 1, TR 2, nothing 0; gold TR -> HS 1, TR 1, nothing 0; no gold -> 0, 0,
    # and nothing predicted 1 (item 3: neither gold nor predicted)
    assert cells == [1, 2, 0, 1, 1, 0, 0, 0, 1]
    loss = _section(page, 'id="loss-plot"', "</svg>")
    assert 'data-series="training loss"' in loss and 'data-series="validation loss"' in loss
    assert loss.count('class="pt"') == 6
    # objective "none" calibrates nothing: its curves already are F1, no second set
    assert 'id="curve-hs-f1"' not in page


def test_f1_against_the_threshold_is_drawn_for_other_objectives(project, viewer):
    thresholds, metrics = C.calibrate_and_measure(Y, S, ["HS", "TR"], "multilabel", "target_recall", {"HS": 0.9})
    version = ModelVersion.objects.create(project=project, backend="embedding_head", artifact_dir="/x",
                                          labels=["HS", "TR"], thresholds=thresholds, metrics=metrics)
    page = client_for(viewer).get(f"/models/versions/{version.pk}/").content.decode()
    figure = _section(page, 'id="curve-hs-f1"', "</figure>")
    # HS recall 1 needs threshold <= 0.4 (the .4 positive): highest such grid point 0.40
    assert thresholds["HS"] == 0.4 and 'data-threshold="0.4"' in figure
    assert "F1 of the positive class" in figure and figure.count("<circle") >= 19


def test_a_version_without_stored_curves_says_so(project, viewer):
    version = ModelVersion.objects.create(project=project, backend="embedding_head", artifact_dir="/x",
                                          labels=["HS"], metrics={"f1_macro": 0.5})
    page = client_for(viewer).get(f"/models/versions/{version.pk}/").content.decode()
    assert "stored no validation curves" in page and "fitted in one step" in page
    assert 'id="pr-plot"' not in page


def test_the_compare_page_overlays_two_versions(project, viewer):
    a = _version(project, history=[{"epoch": 1, "train_loss": 0.9}, {"epoch": 2, "train_loss": 0.4}])
    b = _version(project, f1_shift=-0.1)
    page = client_for(viewer).get(f"/models/projects/{project.pk}/compare/?v={a.pk}&v={b.pk}").content.decode()
    table = _section(page, 'id="compare-table"', "</table>")
    assert f'data-version="{a.pk}"' in table and f'data-version="{b.pk}"' in table
    roc = _section(page, 'id="compare-roc-plot"', "</svg>")
    for v in (a, b):
        assert f'data-series="#{v.pk} HS (AUC 0.750)"' in roc
    assert roc.count("<polyline") == 4
    assert 'id="compare-loss-plot"' in page
    # nothing picked: the two latest
    page = client_for(viewer).get(f"/models/projects/{project.pk}/compare/").content.decode()
    assert f'data-version="{a.pk}"' in page and f'data-version="{b.pk}"' in page


def test_promoting_in_the_browser_shows_the_changes_and_warns_for_a_worse_version(project, owner, viewer):
    current = promote_version(_version(project, n_val=100))
    worse = _version(project, f1_shift=-0.2)
    client = client_for(owner)
    page = client.get(f"/models/versions/{worse.pk}/promote").content.decode()
    warnings = _section(page, 'id="promote-warnings"', "</div>")
    assert f"worse than the current version #{current.pk}" in warnings
    assert "only 4 examples (fewer than 30)" in warnings
    assert "fewer than 30 examples, or fewer than 5 gold positives" in page  # the rule
    assert 'data-metric="f1_macro"' in page and "delta-down" in page
    assert ModelVersion.objects.get(is_current=True) == current  # a GET changes nothing
    response = client.post(f"/models/versions/{worse.pk}/promote", {"confirm": "1"})
    assert response.status_code == 302 and ModelVersion.objects.get(is_current=True) == worse
    assert client_for(viewer).get(f"/models/versions/{worse.pk}/promote").status_code == 403


def test_the_attention_view_shades_words_by_weight(project, viewer, settings, tmp_path):
    from models_zoo.serving import get_model_cache
    from tests.models_zoo.prediction_fixtures import store_artifact
    from tests.models_zoo.tiny_attention_bilstm import make_case
    from tests.web.helpers import add_examples

    backend, train, val, _ = make_case(tmp_path, epochs=2)
    backend.fit(train, val)
    backend.save(tmp_path / "artifact")
    key, checksum = store_artifact(tmp_path / "artifact", project.pk)
    version = ModelVersion.objects.create(project=project, backend="attention_bilstm",
                                          artifact_dir=key, artifact_checksum=checksum,
                                          labels=list(backend.labels),
                                          thresholds=backend.thresholds, metrics=backend.metrics)
    examples = add_examples(project, ["the storm flooded the town", "a calm sunny day"])
    get_model_cache().clear()
    client = client_for(viewer)
    page = client.get(f"/models/versions/{version.pk}/explain/?example={examples[0].pk}").content.decode()
    row = _section(page, f'data-example="{examples[0].pk}"', "</section>")
    weights = [float(w) for w in re.findall(r'data-weight="([0-9.]+)"', row)]
    assert len(weights) == 5 and abs(sum(weights) - 1.0) < 0.01  # softmax over the five words
    shades = [int(x) for x in re.findall(r'class="tok att-(\d)"', row)]
    assert len(shades) == 5 and shades[weights.index(max(weights))] == max(shades)
    assert "(threshold " in row
    assert client.get(f"/models/versions/{version.pk}/explain/?example=x").status_code == 400
    other = _version(project)
    assert client.get(f"/models/versions/{other.pk}/explain/").status_code == 404


def test_the_map_page_requests_the_job_then_draws_the_cached_points(project, owner, settings, tmp_path):
    from annotator.models import Annotation
    from annotator.services import embeddings as E
    from models_zoo.services.embedding_map import compute_map
    from tests.models_zoo.tiny_hf import tiny_bert_dir
    from tests.web.helpers import add_examples

    examples = add_examples(project, ["flood in town", "cats on a sofa", "storm warning", "picnic <b>day</b>"])
    Annotation.objects.create(example=examples[0], user=owner, labels=["HS"], source="human")
    client = client_for(owner)
    assert "no ready embedding set" in client.get(f"/models/projects/{project.pk}/map/").content.decode()
    tiny = E.request_embedding_set(project, str(tiny_bert_dir()), enqueue=False)
    E.embed_inline(tiny)
    assert 'id="map-compute"' in client.get(f"/models/projects/{project.pk}/map/").content.decode()
    assert client.post(f"/models/projects/{project.pk}/map/").status_code == 302  # the job is queued
    assert 'id="map-pending"' in client.get(f"/models/projects/{project.pk}/map/").content.decode()
    assert compute_map(project.pk) == 4  # what the worker runs
    page = client.get(f"/models/projects/{project.pk}/map/").content.decode()
    svg = _section(page, 'id="embedding-map"', "</svg>")
    assert svg.count('class="map-point"') == 4
    assert f'href="/projects/{project.pk}/examples/{examples[0].pk}/"' in svg
    assert "[HS] flood in town</title>" in svg and "picnic &lt;b&gt;day&lt;/b&gt;" in svg
    assert svg.count('fill="#2563eb"') == 1  # one gold HS example, the others grey


def test_shades_follow_the_weight_against_an_even_share():
    from models_zoo.services.explain import shade_tokens

    even = shade_tokens([{"token": t, "weight": 0.25} for t in "abcd"])
    assert [t["shade"] for t in even] == [0, 0, 0, 0]  # attending evenly highlights nothing
    # four words: ratios 0.4, 0.2, 1.2, 2.2 -> shades 0, 0, round(0.1 * 9) = 1, round(0.6 * 9) = 5
    skew = shade_tokens([{"token": "a", "weight": 0.1}, {"token": "b", "weight": 0.05},
                         {"token": "c", "weight": 0.3}, {"token": "d", "weight": 0.55}])
    assert [t["shade"] for t in skew] == [0, 0, 1, 5]
    # all the weight on one of three words: three times an even share, the darkest shade
    one = shade_tokens([{"token": "x", "weight": 1.0}, {"token": "y", "weight": 0.0}, {"token": "z", "weight": 0.0}])
    assert [t["shade"] for t in one] == [9, 0, 0]
    assert shade_tokens([]) == []


def test_the_map_coloured_by_prediction_shows_scores_with_thresholds(project, owner, settings, tmp_path):
    from annotator.services import embeddings as E
    from models_zoo.models import Prediction
    from models_zoo.services.embedding_map import compute_map
    from tests.models_zoo.tiny_hf import tiny_bert_dir
    from tests.web.helpers import add_examples

    examples = add_examples(project, ["flood in town", "cats on a sofa", "storm warning"])
    version = promote_version(_version(project))
    Prediction.objects.create(example=examples[0], model_version=version, scores={"HS": 0.7, "TR": 0.1},
                              labels=["HS"])
    tiny = E.request_embedding_set(project, str(tiny_bert_dir()), enqueue=False)
    E.embed_inline(tiny)
    compute_map(project.pk)
    page = client_for(owner).get(f"/models/projects/{project.pk}/map/?colour=prediction").content.decode()
    svg = _section(page, 'id="embedding-map"', "</svg>")
    assert "[HS: HS 0.70 (threshold 0.50), TR 0.10 (threshold 0.50)] flood in town</title>" in svg
    assert "layout: PCA (too few points for UMAP)" in page
