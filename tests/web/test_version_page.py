# ruff: noqa: F811  (fixtures imported from tests.models_zoo.services.helpers are parameters)
"""The version page (validation split, objective, curves), the split column and warning on
the versions page, and the training-defaults form."""
from __future__ import annotations

import re

import numpy as np
from django.test import Client

from models_zoo.backends import _classify as C
from models_zoo.models import ModelVersion
from tests.models_zoo.services.helpers import (  # noqa: F401 - fixtures
    annotated_project,
    artifacts_dir,
    stepping_backend,
)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _calibrated_version(project, objective="target_recall", split=None) -> ModelVersion:
    y = np.array([[1, 0], [1, 0], [1, 1], [0, 0], [0, 1], [0, 0], [0, 0], [0, 0]])
    s = np.array([[0.9, 0.1], [0.7, 0.2], [0.3, 0.8], [0.6, 0.3], [0.2, 0.9], [0.1, 0.1], [0.1, 0.4], [0.1, 0.2]])
    thresholds, metrics = C.calibrate_and_measure(y, s, ["HS", "TR"], "multilabel", objective, {"HS": 0.9})
    snapshot = {"seed": 1, "counts": {"train": 30, "validation": 8}}
    if split:
        snapshot["split"] = split
    return ModelVersion.objects.create(project=project, backend="embedding_head", artifact_dir="/nowhere",
                                       labels=["HS", "TR"], thresholds=thresholds, metrics=metrics,
                                       config={"threshold_objective": objective}, data_snapshot=snapshot)


def test_the_version_page_draws_each_labels_curve_with_the_chosen_threshold(project, viewer):
    version = _calibrated_version(project, split={"kind": "group", "field": "event", "values": ["boston"]})
    assert version.thresholds["HS"] == 0.30  # recall 1 up to 0.30 (tests/models_zoo/test_thresholds.py)
    page = client_for(viewer).get(f"/models/versions/{version.pk}/").content.decode()
    assert 'data-kind="group">held-out event in [boston]</dd>' in page
    assert '<dd id="objective">target_recall</dd>' in page
    figure = page[page.index('id="curve-hs"'):page.index("</figure>", page.index('id="curve-hs"'))]
    assert 'data-threshold="0.3"' in figure
    # the chosen line sits at x = 40 + 0.3 * 308 = 132.4; the target 0.9 at y = 12 + 0.1 * 156
    assert re.search(r'class="chosen" x1="132.4"', figure)
    assert 'class="target" x1="40" y1="27.6"' in figure
    assert "target 0.9 met" in figure
    assert figure.count("<polyline") == 1


def test_outsiders_get_404_on_the_version_page(project, outsider):
    version = _calibrated_version(project)
    assert client_for(outsider).get(f"/models/versions/{version.pk}/").status_code == 404
    assert client_for(outsider).get("/models/versions/999999/").status_code == 404


def test_the_versions_page_says_when_splits_differ(project, owner):
    first = _calibrated_version(project)
    second = _calibrated_version(project, split={"kind": "date", "field": "created_at", "before": "2013-03-01"})
    second.promotion_note = "not auto-promoted: validated on a different split"
    second.save()
    page = client_for(owner).get(f"/models/projects/{project.pk}/versions/").content.decode()
    assert 'id="split-warning"' in page and "validated on 2 different splits" in page
    assert "train before 2013-03-01, validate after (created_at)" in page
    assert "random stratified 20%" in page
    assert "not auto-promoted: validated on a different split" in page
    assert f'href="/models/versions/{first.pk}/"' in page


def test_one_kind_of_split_shows_no_warning(project, owner):
    _calibrated_version(project)
    _calibrated_version(project)
    page = client_for(owner).get(f"/models/projects/{project.pk}/versions/").content.decode()
    assert 'id="split-warning"' not in page


def test_admins_set_the_training_defaults_in_the_settings_form(project, owner):
    response = client_for(owner).post(f"/models/projects/{project.pk}/settings", {
        "retrain_every": "", "retrain_backend": "embedding_head", "threshold_objective": "target_precision",
        "threshold_targets": '{"HS": 0.8}', "validation_split": '{"kind": "group", "field": "event", "values": ["a"]}',
    })
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.threshold_objective == "target_precision"
    assert project.threshold_targets == {"HS": 0.8}
    assert project.validation_split == {"kind": "group", "field": "event", "values": ["a"]}
    page = client_for(owner).get(f"/models/projects/{project.pk}/versions/").content.decode()
    assert '<option value="target_precision" selected>' in page


def test_bad_training_defaults_are_named_in_the_form(project, owner):
    client = client_for(owner)
    base = {"retrain_every": "", "retrain_backend": "embedding_head", "threshold_objective": "f1_macro"}
    response = client.post(f"/models/projects/{project.pk}/settings", {**base, "threshold_targets": '{"XX": 0.8}'})
    assert response.status_code == 400
    assert "unknown label &#x27;XX&#x27;" in response.content.decode()
    response = client.post(f"/models/projects/{project.pk}/settings", {**base, "validation_split": '{"kind": "group"'})
    assert response.status_code == 400 and "validation_split must be a JSON object" in response.content.decode()
    response = client.post(f"/models/projects/{project.pk}/settings", {**base, "validation_split": '{"kind": "date"}'})
    assert response.status_code == 400 and "a date split needs `before`" in response.content.decode()
    project.refresh_from_db()
    assert project.threshold_objective == "" and project.validation_split == {}


def test_the_train_form_is_prefilled_with_the_projects_defaults(annotated_project, owner):
    annotated_project.threshold_objective = "f1_macro"
    annotated_project.validation_split = {"kind": "date", "before": "2013-03-01"}
    annotated_project.save()
    page = client_for(owner).get(f"/models/projects/{annotated_project.pk}/runs/?backend=embedding_head").content.decode()
    assert re.search(r'<option value="f1_macro"\s+selected', page), "objective not pre-selected"
    assert "&quot;before&quot;: &quot;2013-03-01&quot;" in page


def test_the_version_page_says_where_thresholds_came_from_and_on_how_few_positives(project, viewer):
    rng = np.random.default_rng(0)
    y_train = (rng.uniform(size=(200, 2)) < [0.12, 0.5]).astype(int)  # HS rare: ~24 positives
    oof = np.clip(y_train * 0.4 + rng.uniform(size=(200, 2)) * 0.6, 0, 1)
    y_val = np.array([[1, 1], [1, 0], [0, 1], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0]])
    s_val = np.clip(y_val * 0.5 + 0.2, 0, 1)
    thresholds, metrics = C.calibrate_and_measure(y_val, s_val, ["HS", "TR"], "multilabel", "f1_macro",
                                                  calibration=(y_train, oof), folds=5)
    version = ModelVersion.objects.create(
        project=project, backend="embedding_head", artifact_dir="/nowhere", labels=["HS", "TR"],
        thresholds=thresholds, metrics=metrics, config={"threshold_objective": "f1_macro"},
        data_snapshot={"seed": 1, "counts": {"train": 200, "validation": 8}})
    hs_positives = int(y_train[:, 0].sum())
    assert hs_positives < 30 <= int(y_train[:, 1].sum())
    page = client_for(viewer).get(f"/models/versions/{version.pk}/").content.decode()
    assert '<dd id="calibration">5-fold cross-validation on the training examples</dd>' in page
    # HS: few positives behind both its threshold and its metrics; TR: only its metrics (4).
    assert (f"its threshold rests on {hs_positives} positives and its validation metrics on 2"
            in page)
    assert 'data-label="TR">Few positives for <strong>TR</strong>: its threshold rests on ' in page
    assert "validation metrics on 4;" in page


def test_the_version_page_names_group_cross_validation_and_its_fallback(project, viewer):
    rng = np.random.default_rng(1)
    y_train = (rng.uniform(size=(120, 1)) < 0.4).astype(int)
    oof = np.clip(y_train * 0.4 + rng.uniform(size=(120, 1)) * 0.6, 0, 1)
    y_val = np.array([[1], [0], [1], [0], [0], [1]])
    s_val = np.clip(y_val * 0.5 + 0.2, 0, 1)
    for how, text in (
        ({"method": "group_cross_validation", "groups": 3, "group_field": "event", "note": ""},
         "leave-one-event-out cross-validation over 3 event groups (3 folds) on the training examples"),
        ({"method": "group_cross_validation", "groups": 0, "group_field": "event",
          "note": "group cross-validation fell back to 3-fold stratified cross-validation: the "
                  "training examples have one group only ('x')"},
         "3-fold cross-validation on the training examples (group cross-validation fell back to "
         "3-fold stratified cross-validation: the training examples have one group only (&#x27;x&#x27;))"),
    ):
        thresholds, metrics = C.calibrate_and_measure(y_val, s_val, ["HS"], "binary", "f1_macro",
                                                      calibration=(y_train, oof), folds=3, method=how)
        version = ModelVersion.objects.create(
            project=project, backend="embedding_head", artifact_dir="/nowhere", labels=["HS"],
            thresholds=thresholds, metrics=metrics, config={"threshold_objective": "f1_macro"},
            data_snapshot={"seed": 1, "counts": {"train": 120, "validation": 6}})
        page = client_for(viewer).get(f"/models/versions/{version.pk}/").content.decode()
        assert f'<dd id="calibration">{text}</dd>' in page
