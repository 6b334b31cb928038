"""The version page's validation curves and the training-defaults form in a real Chromium."""
from __future__ import annotations

import pytest

from tests.web.test_version_page import _calibrated_version

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def test_the_version_page_shows_the_curves_and_the_versions_page_warns_about_splits(
        login, live_server, project, owner, shot):
    _calibrated_version(project, objective="f1_macro")
    version = _calibrated_version(project, split={"kind": "group", "field": "event", "values": ["boston"]})
    version.promotion_note = ("not auto-promoted: validated on a different split (held-out event in [boston]) "
                              "than the current version; their f1_macro values are not comparable.")
    version.save()
    page = login(owner)
    page.goto(f"{live_server.url}/models/versions/{version.pk}/")
    curve = page.locator("#curve-hs svg")
    assert curve.is_visible()
    box = curve.bounding_box()
    assert box["width"] > 300 and box["height"] > 150
    assert page.locator("#curve-hs line.chosen").get_attribute("x1") == "132.4"
    assert "held-out event in [boston]" in page.inner_text("#split-text")
    shot(page, "version-detail")
    page.goto(f"{live_server.url}/models/projects/{project.pk}/versions/")
    assert page.locator("#split-warning").is_visible()
    shot(page, "versions-warning")


def test_setting_the_training_defaults_in_the_browser(login, live_server, project, owner, shot):
    page = login(owner)
    page.goto(f"{live_server.url}/models/projects/{project.pk}/versions/")
    page.select_option("#id_threshold_objective", "target_recall")
    page.fill("#id_threshold_targets", '{"HS": 0.9}')
    page.fill("#id_validation_split", '{"kind": "date", "before": "2019-03-01"}')
    shot(page, "defaults-filled")
    page.click("#policy-form button[type=submit]")
    page.wait_for_selector("#id_threshold_objective")
    project.refresh_from_db()
    assert project.threshold_objective == "target_recall"
    assert project.validation_split == {"kind": "date", "before": "2019-03-01"}
    assert page.locator("#id_threshold_objective").input_value() == "target_recall"


def test_the_version_page_says_thresholds_came_from_leave_one_event_out(login, live_server, project, owner, shot):
    import numpy as np

    from models_zoo.backends import _classify as C
    from models_zoo.models import ModelVersion

    rng = np.random.default_rng(2)
    y_train = (rng.uniform(size=(150, 1)) < 0.4).astype(int)
    oof = np.clip(y_train * 0.4 + rng.uniform(size=(150, 1)) * 0.6, 0, 1)
    y_val = np.array([[1], [0], [1], [0], [0], [1], [0], [0]])
    thresholds, metrics = C.calibrate_and_measure(
        y_val, np.clip(y_val * 0.5 + 0.2, 0, 1), ["HS"], "binary", "f1_macro", calibration=(y_train, oof),
        folds=2, method={"method": "group_cross_validation", "groups": 2, "group_field": "event", "note": ""})
    version = ModelVersion.objects.create(
        project=project, backend="embedding_head", artifact_dir="/nowhere", labels=["HS"],
        thresholds=thresholds, metrics=metrics, config={"threshold_calibration": "group_cross_validation"},
        data_snapshot={"seed": 1, "counts": {"train": 150, "validation": 8},
                       "split": {"kind": "group", "field": "event", "values": ["boston"]}})
    page = login(owner)
    page.goto(f"{live_server.url}/models/versions/{version.pk}/")
    assert page.inner_text("#calibration") == ("leave-one-event-out cross-validation over 2 event groups "
                                               "(2 folds) on the training examples")
    shot(page, "group-calibration")
