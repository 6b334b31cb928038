"""Stratified samples of a project (seed 004): design, preview, draw, members and estimates.

The algorithms are the pure functions of `annotator.sampling`; this module reads the stratifying
field from the examples, stores the drawn sample and counts the annotated members. REST views,
pages and the CLI call these functions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models.fields.json import KeyTextTransform

from annotator.gold import resolve_gold
from annotator.models import Annotation, AnnotationSource, Example, Project, Sample, SampleMember
from annotator.sampling import (
    DesignError,
    StratumCounts,
    categorical_strata,
    draw,
    numeric_strata,
    plan,
    stratified_estimate,
)
from annotator.sampling.design import ALLOCATIONS, Plan
from config.inputs import InvalidInput, parse_float, parse_int

DESIGN_FIELDS = {
    "name",
    "field",
    "boundaries",
    "quantiles",
    "classes",
    "take_all_above",
    "allocation",
    "size",
    "target_cv",
    "expected_p",
    "seed",
    "preview",
}
# Pseudo-fields that are not meta keys.
DAY_FIELD = "day"
DEFAULT_TARGET_CV = 0.05
DEFAULT_EXPECTED_P = 0.34


def _number(spec: Mapping[str, Any], key: str, default: float | None = None) -> float | None:
    """A finite number or `default` when absent or null (the shared parser, config.inputs)."""
    try:
        return parse_float(spec.get(key), key, default=default)
    except InvalidInput as exc:
        raise DesignError(f"{key} {exc.message}", key) from None


def _bounded(spec: Mapping[str, Any], key: str, lo: int, hi: int) -> int | None:
    """A whole number in [lo, hi] or None; past hi it would overflow its column (2**63 -> 400)."""
    try:
        return parse_int(spec.get(key), key, default=None, lo=lo, hi=hi)
    except InvalidInput as exc:
        raise DesignError(f"{key} {exc.message}", key) from None


def parse_design(spec: Any) -> dict[str, Any]:
    """The validated design: DesignError names the first wrong field."""
    if not isinstance(spec, Mapping):
        raise DesignError("expected a JSON object", "body")
    unknown = sorted(set(spec) - DESIGN_FIELDS)
    if unknown:
        raise DesignError(f"unknown field; valid: {', '.join(sorted(DESIGN_FIELDS))}", unknown[0])
    field = spec.get("field")
    if not isinstance(field, str) or not field.strip():
        raise DesignError("field is required: the metadata key to stratify on", "field")
    out: dict[str, Any] = {"field": field.strip(), "name": str(spec.get("name") or "")[:200]}
    given = [k for k in ("boundaries", "quantiles", "classes") if spec.get(k) is not None]
    if len(given) > 1:
        raise DesignError(
            f"give one of boundaries, quantiles or classes, not {' and '.join(given)}", given[1]
        )
    if spec.get("boundaries") is not None:
        b = spec["boundaries"]
        if not isinstance(b, list) or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in b
        ):
            raise DesignError("boundaries must be a list of numbers", "boundaries")
        out["boundaries"] = [_number({"boundaries": x}, "boundaries") for x in b]
    if spec.get("quantiles") is not None:
        out["quantiles"] = _bounded(spec, "quantiles", 1, 1000)
    if spec.get("classes") is not None:
        c = spec["classes"]
        if not isinstance(c, list) or not c or not all(isinstance(x, (str, int)) for x in c):
            raise DesignError("classes must be a non-empty list of values", "classes")
        out["classes"] = [str(x) for x in c]
        if spec.get("take_all_above") is not None:
            raise DesignError(
                "take_all_above applies to numeric fields, not classes", "take_all_above"
            )
    out["take_all_above"] = _number(spec, "take_all_above")
    allocation = spec.get("allocation") or "proportional"
    if allocation not in ALLOCATIONS:
        raise DesignError(f"allocation must be one of {', '.join(ALLOCATIONS)}", "allocation")
    out["allocation"] = allocation
    if spec.get("size") is not None and spec.get("target_cv") is not None:
        raise DesignError("give size or target_cv, not both", "target_cv")
    out["size"] = _bounded(spec, "size", 1, 2**31 - 1)
    out["target_cv"] = (
        None if out["size"] is not None else (_number(spec, "target_cv") or DEFAULT_TARGET_CV)
    )
    expected = spec.get("expected_p")
    if isinstance(expected, Mapping):
        out["expected_p"] = {
            str(k): _number({f"expected_p.{k}": v}, f"expected_p.{k}") for k, v in expected.items()
        }
        if any(v is None for v in out["expected_p"].values()):
            raise DesignError("expected_p must be a number or {stratum: number}", "expected_p")
    elif isinstance(expected, (list, tuple)):
        raise DesignError("expected_p must be a number or {stratum: number}", "expected_p")
    else:  # absent or null: the seed's weighted estimate
        out["expected_p"] = _number(spec, "expected_p", DEFAULT_EXPECTED_P)
    seed = _bounded(spec, "seed", 0, 2**63 - 1)
    out["seed"] = 0 if seed is None else seed
    return out


def _field_values(project: Project, field: str) -> tuple[np.ndarray, list[Any]]:
    """(example ids, raw values) of the stratifying field; a missing field is an error naming
    how many examples lack it."""
    rows = Example.objects.filter(project=project).order_by("id")
    if field == DAY_FIELD:
        pairs = list(rows.values_list("id", "posted_at"))
        values = [None if v is None else v.date().isoformat() for _, v in pairs]
    else:
        pairs = list(rows.annotate(v=KeyTextTransform(field, "meta")).values_list("id", "v"))
        values = [v for _, v in pairs]
    if not pairs:
        raise DesignError("the project has no examples", "field")
    missing = [pk for (pk, _), v in zip(pairs, values, strict=True) if v is None or v == ""]
    if missing:
        shown = ", ".join(str(pk) for pk in missing[:5])
        raise DesignError(
            f"field {field!r} is missing on {len(missing)} of {len(pairs)} examples "
            f"(e.g. example {shown})",
            "field",
        )
    return np.array([pk for pk, _ in pairs], dtype=np.int64), values


def _numeric(field: str, values: list[Any]) -> np.ndarray:
    out = np.empty(len(values))
    bad = 0
    for i, v in enumerate(values):
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            bad += 1
    if bad:
        raise DesignError(
            f"field {field!r} is not numeric on {bad} examples; stratify it with classes", "field"
        )
    return out


def build_plan(project: Project, design: Mapping[str, Any]) -> tuple[np.ndarray, Plan]:
    """Example ids and the planned strata and sizes (nothing stored)."""
    ids, raw = _field_values(project, design["field"])
    if design.get("classes") is not None:
        assignment, strata = categorical_strata(raw, design["classes"])
        strata_field = "classes"
    else:
        values = _numeric(design["field"], raw)
        if design.get("boundaries") is None and design.get("quantiles") is None:
            raise DesignError("give boundaries, quantiles or classes", "boundaries")
        assignment, strata = numeric_strata(
            values, design.get("boundaries"), design.get("quantiles"), design.get("take_all_above")
        )
        strata_field = "quantiles" if design.get("quantiles") is not None else "boundaries"
    planned = plan(
        assignment,
        strata,
        allocation=design["allocation"],
        size=design.get("size"),
        target_cv=design.get("target_cv"),
        expected_p=design["expected_p"],
        strata_field=strata_field,
    )
    return ids, planned


def preview_sample(project: Project, spec: Any) -> dict[str, Any]:
    """The strata a design would draw (N_h, n_h, weight, expected CV), without drawing."""
    design = parse_design(spec)
    _, planned = build_plan(project, design)
    return _plan_body(planned)


def _plan_body(planned: Plan) -> dict[str, Any]:
    return {
        "size": planned.size,
        "population": int(sum(s.population for s in planned.strata)),
        "expected_cv": None if planned.expected_cv is None else round(planned.expected_cv, 6),
        "strata": [s.as_dict() for s in planned.strata],
    }


@transaction.atomic
def draw_sample(project: Project, spec: Any, user: AbstractBaseUser | None = None) -> Sample:
    """Plan and draw the sample with `numpy.random.default_rng(seed)`; store it with its members."""
    design = parse_design(spec)
    ids, planned = build_plan(project, design)
    chosen = draw(ids, planned, np.random.default_rng(design["seed"]))
    body = _plan_body(planned)
    sample = Sample.objects.create(
        project=project,
        name=design["name"],
        field=design["field"],
        design={k: v for k, v in design.items() if k != "name"},
        strata=body["strata"],
        population=body["population"],
        size=body["size"],
        seed=design["seed"],
        created_by=user if user is not None and user.is_authenticated else None,
    )
    weights = [s.weight for s in planned.strata]
    SampleMember.objects.bulk_create(
        (
            SampleMember(sample=sample, example_id=eid, stratum=h, weight=weights[h])
            for eid, h in chosen
        ),
        batch_size=5000,
    )
    return sample


def gold_labels(project: Project, example_ids: list[int]) -> dict[int, set[str]]:
    """Gold label set per annotated example, by the training data's rule (majority of human
    annotations, else the imported one; suggestions never count)."""
    label_names = list(project.labels.values_list("name", flat=True))
    by_example: dict[int, list[Annotation]] = defaultdict(list)
    annotations = Annotation.objects.filter(example_id__in=example_ids).exclude(
        source=AnnotationSource.MODEL
    )
    for annotation in annotations.order_by("example_id", "id"):
        by_example[annotation.example_id].append(annotation)
    out = {}
    for example_id, rows in by_example.items():
        gold = resolve_gold(rows, project.task_type, label_names)
        if gold is not None:
            out[example_id] = set(gold.labels) | {s["label"] for s in gold.spans}
    return out


def sample_estimates(sample: Sample) -> dict[str, dict[str, Any]]:
    """Per label: the stratified estimate, SE, CV, 95% interval, unweighted share, design
    effect, annotated and missing member counts (annotator.sampling.estimate)."""
    project = sample.project
    members = list(sample.members.values_list("example_id", "stratum"))
    gold = gold_labels(project, [eid for eid, _ in members])
    labels = list(project.labels.values_list("name", flat=True))
    by_stratum: dict[int, list[int]] = defaultdict(list)
    for eid, h in members:
        by_stratum[h].append(eid)
    out: dict[str, dict[str, Any]] = {}
    for label in labels:
        counts = []
        for h, stratum in enumerate(sample.strata):
            in_h = by_stratum[h]
            annotated = [eid for eid in in_h if eid in gold]
            counts.append(
                StratumCounts(
                    population=int(stratum["population"]),
                    annotated=len(annotated),
                    positives=sum(1 for eid in annotated if label in gold[eid]),
                    members=len(in_h),
                )
            )
        out[label] = _rounded(stratified_estimate(counts))
    return out


def _rounded(estimate: dict[str, Any]) -> dict[str, Any]:
    def r(v: Any) -> Any:
        if isinstance(v, float):
            return round(v, 6)
        if isinstance(v, list):
            return [r(x) for x in v]
        return v

    return {k: r(v) for k, v in estimate.items()}


def sample_members(sample: Sample):
    """Members in example order, as `{example, stratum, weight}` rows (stratum by name)."""
    names = [s["name"] for s in sample.strata]
    rows = sample.members.order_by("example_id").values("example_id", "stratum", "weight")
    return (
        {"example": r["example_id"], "stratum": names[r["stratum"]], "weight": r["weight"]}
        for r in rows
    )
