"""The training form's fields from a backend's schema: groups and choice-dependent fields
(models_zoo.web.config_form), and the CSS that shows a field only for its choice."""
from __future__ import annotations

from models_zoo.backends.embedding_head import EmbeddingHeadConfig
from models_zoo.backends.span_tagger import SpanTaggerConfig
from models_zoo.web.config_form import conditional_css, field_groups, fields_from_schema


def _by_name(fields):
    return {f.name: f for f in fields}


def test_each_heads_settings_say_which_head_they_belong_to():
    fields = _by_name(fields_from_schema(EmbeddingHeadConfig.model_json_schema()))
    for name in ("n_estimators", "max_depth", "min_samples_leaf"):
        assert fields[name].shown_when == {"head": ["random_forest"]}, name
    for name in ("C", "max_iter"):
        assert fields[name].shown_when == {"head": ["logistic_regression"]}, name
    assert fields["encoder"].shown_when == {} and fields["class_weight"].shown_when == {}  # both heads
    assert fields["threshold_targets"].shown_when == {"threshold_objective": ["target_recall", "target_precision"]}
    assert fields["calibration_folds"].shown_when == {"threshold_calibration": ["cross_validation",
                                                                               "group_cross_validation"]}
    assert fields["calibration_group_field"].shown_when == {"threshold_calibration": ["group_cross_validation"]}


def test_boolean_conditions_use_the_forms_true_and_false():
    fields = _by_name(fields_from_schema(SpanTaggerConfig.model_json_schema()))
    assert fields["lstm_hidden"].shown_when == {"use_lstm": ["true"]}


def test_the_validation_settings_form_one_group_after_the_models_own():
    groups = field_groups(fields_from_schema(EmbeddingHeadConfig.model_json_schema()))
    assert [legend for legend, _ in groups] == ["Model", "Validation: split, seed and thresholds"]
    validation = [f.name for f in groups[1][1]]
    assert validation == ["seed", "validation_split", "threshold_objective", "threshold_targets",
                          "threshold_calibration", "calibration_folds", "calibration_group_field"]
    assert "head" in [f.name for f in groups[0][1]]


def test_the_css_hides_a_field_unless_its_choice_is_selected():
    css = str(conditional_css(fields_from_schema(EmbeddingHeadConfig.model_json_schema())))
    assert css.startswith("@supports selector(:has(*)) {")  # older browsers: every field shows
    assert ('#config-fields:not(:has(#id_cfg__head option[value="random_forest"]:checked)) '
            '[data-field="n_estimators"] { display: none; }') in css
    assert ('#config-fields:not(:has(#id_cfg__threshold_objective option[value="target_recall"]:checked, '
            '#id_cfg__threshold_objective option[value="target_precision"]:checked)) '
            '[data-field="threshold_targets"] { display: none; }') in css
    # C, max_iter, three forest settings, targets, folds, group field
    assert css.count("display: none") == 8


def test_odd_names_never_reach_the_css():
    schema = {"properties": {
        "mode": {"enum": ["a", "b"]},
        "x": {"type": "integer", "shown_when": {"mode": ['a"]) body{color:red']}},
        "y": {"type": "integer", "shown_when": {"missing": ["a"]}},
    }}
    assert str(conditional_css(fields_from_schema(schema))) == ""
