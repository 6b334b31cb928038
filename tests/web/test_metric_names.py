# ruff: noqa: F811  (fixtures imported from tests.models_zoo.services.helpers are parameters)
"""Every validation figure is named by what it is (issue 19's walk): on a binary project the
stored `f1_macro` is the positive class's F1, not the "macro-F1 over both classes" the threshold
curve shows; the confusion table has its true-negative cell; the run log rounds its figure."""
from __future__ import annotations

import re

import numpy as np
import pytest

from annotator.models import Membership, Role
from models_zoo.backends import _classify as C
from models_zoo.models import ModelVersion, TrainingRun
from models_zoo.services.training import start_training_run
from models_zoo.services.training_worker import run_training
from models_zoo.services.versions import promote_version
from tests.conftest import make_project
from tests.models_zoo.services.helpers import (  # noqa: F401 - fixtures
    annotated_project,
    artifacts_dir,
    stepping_backend,
)
from tests.web.helpers import client_for

pytestmark = pytest.mark.django_db

# One label, ten validation examples, 4 gold positives. The macro-F1 objective picks threshold 0.3:
# TP 4, FN 0, FP 1, TN 5: positive-class F1 0.889, macro-F1 over both classes 0.899.
Y = np.array([[1], [1], [1], [1], [0], [0], [0], [0], [0], [0]])
S = np.array([[0.9], [0.8], [0.6], [0.3], [0.7], [0.2], [0.2], [0.15], [0.1], [0.05]])


def _binary_version(project, shift=0.0) -> ModelVersion:
    thresholds, metrics = C.calibrate_and_measure(Y, S, ["on-topic"], "binary", "f1_macro")
    metrics["f1_macro"] += shift
    return ModelVersion.objects.create(project=project, backend="embedding_head", artifact_dir="/nowhere",
                                       labels=["on-topic"], thresholds=thresholds, metrics=metrics,
                                       data_snapshot={"counts": {"train": 40, "validation": 10}})


@pytest.fixture
def binary(owner):
    project = make_project(owner, "binary", labels=("on-topic",))
    return project


def _dd(page: str, key: str) -> str:
    return re.search(rf'data-metric="{key}">([^<]*)<', page).group(1)


def test_a_binary_version_page_names_each_figure_by_what_it_is(binary, owner):
    version = _binary_version(binary)
    metrics = version.metrics
    pick = metrics["threshold_calibration"]["per_label"]["on-topic"]
    f1_positive, macro_both = metrics["per_class"]["on-topic"]["f1"], pick["value"]
    assert round(f1_positive, 3) != round(macro_both, 3)  # the two figures the page used to mix up
    page = client_for(owner).get(f"/models/versions/{version.pk}/").content.decode()
    validation = page[page.index('id="validation"'):page.index('id="per-label"')]
    assert "<dt>F1 of on-topic (positive class)</dt>" in validation
    assert _dd(validation, "f1_macro") == f"{f1_positive:.3f}"
    # The macro over both classes, at the calibrated threshold: the threshold curve's figure.
    assert "<dt>macro-F1 over both classes</dt>" in validation
    assert _dd(validation, "f1_both_classes") == f"{macro_both:.3f}"
    assert "<dt>ROC-AUC of on-topic</dt>" in validation
    assert "F1 macro" not in validation and "micro" not in validation
    # The confusion table's four cells, the true negatives included.
    table = page[page.index('id="confusion-table"'):]
    table = table[:table.index("</table>")]
    cells = [int(c) for c in re.findall(r'<td class="cell[^"]*"[^>]*>(\d+)</td>', table)]
    threshold = version.thresholds["on-topic"]
    predicted = S[:, 0] >= threshold
    gold = Y[:, 0] == 1
    tp, fn = int(np.sum(predicted & gold)), int(np.sum(~predicted & gold))
    fp, tn = int(np.sum(predicted & ~gold)), int(np.sum(~predicted & ~gold))
    assert cells == [tp, fn, fp, tn] and tn > 0
    assert 'id="confusion-neither">' in table and "<th>not on-topic</th>" in table


def test_binary_versions_and_compare_tables_and_the_promotion_review_use_the_names(binary, owner):
    current = promote_version(_binary_version(binary))
    worse = _binary_version(binary, shift=-0.1)
    client = client_for(owner)
    for url in (f"/models/projects/{binary.pk}/versions/", f"/models/projects/{binary.pk}/compare/"):
        page = client.get(url).content.decode()
        head = page[page.index("<thead>"):page.index("</thead>")]
        assert '<th data-metric="f1_macro">F1 of on-topic (positive class)</th>' in head, url
        assert '<th data-metric="roc_auc_macro">ROC-AUC of on-topic</th>' in head, url
        assert "F1 macro" not in head and "F1 micro" not in head, url
    page = client.get(f"/models/versions/{worse.pk}/promote").content.decode()
    assert f"worse than the current version #{current.pk}: validation F1 of on-topic (positive class)" in page
    assert "when its validation F1 of on-topic (positive class) is lower" in page
    assert 'data-metric="f1_micro"' not in page  # the same figure again
    assert "<td>F1 of on-topic (positive class)</td>" in page and "<td>ROC-AUC of on-topic</td>" in page


def test_the_multilabel_figures_say_what_they_average(project, owner):
    Membership.objects.filter(project=project, user=owner).update(role=Role.ADMIN)
    thresholds, metrics = C.calibrate_and_measure(np.array([[1, 0], [0, 1], [1, 1], [0, 0]]),
                                                  np.array([[.9, .2], [.3, .8], [.7, .6], [.1, .1]]),
                                                  ["HS", "TR"], "multilabel", "none")
    version = ModelVersion.objects.create(project=project, backend="embedding_head", artifact_dir="/x",
                                          labels=["HS", "TR"], thresholds=thresholds, metrics=metrics)
    page = client_for(owner).get(f"/models/versions/{version.pk}/").content.decode()
    assert "<dt>F1 macro (mean over labels)</dt>" in page and "<dt>F1 micro (pooled over labels)</dt>" in page
    assert "<dt>ROC-AUC macro (mean over labels)</dt>" in page
    # The items with neither a gold nor a predicted label fill the last cell.
    assert re.search(r'id="confusion-neither">1</td>', page)


def test_the_run_log_names_and_rounds_its_figure(annotated_project, owner, stepping_backend):
    run = start_training_run(annotated_project, stepping_backend, {}, owner)
    version = run_training(run.pk)
    log = TrainingRun.objects.get(pk=run.pk).log
    figure = f"{version.metrics['f1_macro']:.3f}"
    assert f"succeeded: model version {version.pk}, validation F1 macro (mean over labels) {figure}\n" in log
