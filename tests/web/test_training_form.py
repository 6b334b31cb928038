# ruff: noqa: F811  (fixtures imported from tests.models_zoo.services.helpers are parameters)
"""The runs page's training form (issue 19's walk): the validation settings in one group, each
head's settings marked for CSS to hide while another head is chosen, Train in a sticky bar.
The behaviour in a browser, with and without JavaScript: tests/ui/test_training_form_ui.py."""
from __future__ import annotations

import pytest

from tests.models_zoo.services.helpers import annotated_project, artifacts_dir  # noqa: F401
from tests.web.helpers import HTMX, client_for

pytestmark = pytest.mark.django_db


def _fieldset(page: str, legend: str) -> str:
    start = page.index(f"<legend>{legend}</legend>")
    return page[start:page.index("</fieldset>", start)]


def test_the_validation_settings_are_one_group_and_train_sits_in_a_sticky_bar(annotated_project, owner):
    page = client_for(owner).get(f"/models/projects/{annotated_project.pk}/runs/").content.decode()
    validation = _fieldset(page, "Validation: split, seed and thresholds")
    for name in ("seed", "validation_split", "threshold_objective", "threshold_targets"):
        assert f'data-field="{name}"' in validation, name
    model = _fieldset(page, "Model")
    assert 'data-field="head"' in model and 'data-field="seed"' not in model
    bar = page[page.index('id="train-actions"') - 60:]
    assert 'class="form-actions sticky-actions" id="train-actions"' in bar
    assert bar.index('id="train-button"') < bar.index("</form>")


def test_the_forests_settings_hide_unless_the_forest_is_chosen(annotated_project, owner):
    client = client_for(owner)
    for page in (client.get(f"/models/projects/{annotated_project.pk}/runs/").content.decode(),
                 client.get(f"/models/projects/{annotated_project.pk}/runs/config-fields?backend=embedding_head",
                            **HTMX).content.decode()):
        assert '<div class="field" data-field="n_estimators" data-shown-when="head=random_forest">' in page
        assert '[data-field="n_estimators"] { display: none; }' in page  # the page's own <style>
        assert "Applies when head is random_forest." in page
