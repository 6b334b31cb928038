"""The training form in a real Chromium (issue 19's walk): only the chosen head's settings show,
with and without JavaScript; the validation settings sit together; Train stays in view."""
from __future__ import annotations

import pytest

from models_zoo.models import TrainingRun
from tests.models_zoo.services.helpers import annotate

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def _visible(page, name: str) -> bool:
    return page.locator(f'#config-fields [data-field="{name}"]').is_visible()


def _train_in_view(page) -> bool:
    box = page.locator("#train-button").bounding_box()
    height = page.viewport_size["height"]
    return box is not None and 0 <= box["y"] and box["y"] + box["height"] <= height


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_the_form_shows_only_the_chosen_heads_settings_and_keeps_train_in_view(
        login, live_server, project, owner, shot, javascript):
    annotate(project, owner)
    page = login(owner, javascript=javascript)
    page.goto(f"{live_server.url}/models/projects/{project.pk}/runs/")
    # The default head is the logistic regression: its settings show, the forest's do not.
    assert _visible(page, "C") and _visible(page, "max_iter")
    assert not _visible(page, "n_estimators") and not _visible(page, "max_depth")
    # target-only setting: hidden until a target objective is chosen
    assert not _visible(page, "threshold_targets")
    # The validation settings are one group.
    group = page.locator("fieldset.config-group", has_text="Validation: split, seed and thresholds")
    for name in ("validation_split", "seed", "threshold_objective"):
        assert group.locator(f'[data-field="{name}"]').count() == 1, name
    # Train is in the window at the top of the page and after scrolling into the long form.
    assert _train_in_view(page)
    page.locator('[data-field="embed_batch_size"]').scroll_into_view_if_needed()
    assert _train_in_view(page)
    shot(page, "logistic")
    page.screenshot(path=str(shot(page, "logistic").with_suffix(".window.png")))  # what the window shows

    page.select_option("#id_cfg__head", "random_forest")
    assert _visible(page, "n_estimators") and _visible(page, "min_samples_leaf") and _visible(page, "max_depth")
    assert not _visible(page, "C") and not _visible(page, "max_iter")
    page.select_option("#id_cfg__threshold_objective", "target_recall")
    assert _visible(page, "threshold_targets")
    page.fill("#id_cfg__n_estimators", "25")
    shot(page, "forest")
    # The form works as it is: the run gets the forest and its setting.
    page.click("#train-button")
    page.wait_for_url(f"{live_server.url}/models/runs/*/")
    run = TrainingRun.objects.get(project=project)
    assert run.config["head"] == "random_forest" and run.config["n_estimators"] == 25
