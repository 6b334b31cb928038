"""The attention view of an `attention_bilstm` version (seed 004,
../shared/seeds/004_66f580f1de4f5b2c.txt: the AT-BiLSTM's additive attention shows which words
the classifier weighed): the version predicts the texts and each word gets a shade by its
attention weight against the even share 1/n (`shade_tokens`)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from annotator.models import Example, Project
from models_zoo.models import ModelVersion
from models_zoo.services.items import item_for_example
from models_zoo.serving import get_model_cache, version_ref

SHADES = 10
FULL_RATIO = 3.0


class NotExplainable(ValueError):
    pass


def shade_tokens(attention: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """[{"token", "weight", "ratio", "shade" 0..SHADES-1}]. `ratio` is the weight against the
    uniform weight 1/n: a word at or below uniform is unshaded (0); the shade grows linearly to
    the darkest at FULL_RATIO times uniform, so a model that attends evenly shows no highlight."""
    n = len(attention)
    out = []
    for a in attention:
        w = float(a["weight"])
        ratio = w * n if n else 0.0
        shade = 0 if ratio <= 1.0 else min(SHADES - 1, int(round((ratio - 1.0) / (FULL_RATIO - 1.0) * (SHADES - 1))))
        out.append({"token": a["token"], "weight": w, "ratio": round(ratio, 3), "shade": shade})
    return out


def explain_examples(version: ModelVersion, project: Project, examples: Sequence[Example]) -> list[dict[str, Any]]:
    """Per example: its tokens shaded by attention, the scores with the thresholds applied."""
    if version.backend != "attention_bilstm":
        raise NotExplainable(f"version {version.pk} is a {version.backend} model: only attention_bilstm "
                             "versions have attention weights")
    if not examples:
        return []
    loaded = get_model_cache().get(version_ref(version.pk))
    predictions = loaded.predict([item_for_example(e, project) for e in examples])
    out = []
    for example, p in zip(examples, predictions, strict=True):
        thresholds = p.thresholds or version.thresholds or {}
        out.append({
            "example": example,
            "tokens": shade_tokens(p.extras.get("attention") or []),
            "scores": [{"label": name, "score": score, "threshold": thresholds.get(name),
                        "decided": name in p.labels} for name, score in p.scores.items()],
        })
    return out
