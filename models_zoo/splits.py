"""Validation splits (no Django, no torch): how a run's examples are divided into train and
validation, so a version's metrics estimate what the admin needs them to estimate.

- `random` (the default): seeded stratified split, `fraction` of each label set to validation.
- `group`: examples whose metadata `field` has one of `values` (e.g. event in [...]) are the
  validation side, every other example trains; one group is never on both sides. Seed 003
  (../shared/seeds/003_43c8cb6e46dbc9f4.txt) evaluates crisis models on events they never saw:
  this is that hold-out inside the product.
- `date`: examples whose metadata `field` (default `created_at`) is before `before` train, the
  rest (on or after) validate: "train before March, validate after". Examples without a
  readable date are left out of both sides and counted.

Threshold calibration by cross-validation (issue 18) deals the TRAINING examples into k folds
with `stratified_folds`: with 30 positives a 20% validation split holds 6, too few to place a
threshold; k folds of out-of-fold scores use all 30 (see models_zoo.thresholds).
`group_folds` deals them by GROUP instead (`threshold_calibration: group_cross_validation`):
random folds mix every training event, so out-of-fold scores look like in-event scores and the
threshold does not carry to a new event (CrisisLex T6 leave-one-event-out, 160 labels from two
events: ROC-AUC .835 but positive F1 .43); out-of-GROUP scores are what a new event looks like.

The split is recorded on the model version (`data_snapshot["split"]`); metrics from different
splits are not comparable, so `split_signature` says when two versions were validated alike.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

SPLIT_KINDS = ("random", "group", "date")


class ValidationSplit(BaseModel):
    """How train and validation are divided (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    kind: Literal["random", "group", "date"] = Field(
        "random", description="random (stratified), group (hold out metadata values) or date (train before, validate after)")
    fraction: float = Field(0.2, gt=0, lt=1, description="random: share of each label set held out for validation")
    field: str = Field("", description="group/date: the metadata key (e.g. event; date: created_at when empty)")
    values: list[str] = Field(default_factory=list, description="group: the held-out values of `field`")
    before: date | None = Field(None, description="date: train on examples before this day, validate on the rest")

    @model_validator(mode="after")
    def _complete(self) -> ValidationSplit:
        if self.kind == "group" and (not self.field or not self.values):
            raise ValueError("a group split needs `field` (a metadata key) and `values` (the held-out values)")
        if self.kind == "date" and self.before is None:
            raise ValueError("a date split needs `before` (YYYY-MM-DD)")
        return self

    def as_record(self) -> dict[str, Any]:
        """The parameters that define the split (what the version records)."""
        if self.kind == "random":
            return {"kind": "random", "fraction": self.fraction}
        if self.kind == "group":
            return {"kind": "group", "field": self.field, "values": sorted(set(self.values))}
        return {"kind": "date", "field": self.field or "created_at", "before": self.before.isoformat()}


def parse_split(raw: dict[str, Any] | None) -> ValidationSplit:
    """A ValidationSplit from its JSON (None or {} means random); pydantic errors name the field."""
    return ValidationSplit.model_validate(raw or {})


def split_record_of(snapshot: dict[str, Any] | None) -> dict[str, Any]:
    """The split a version was validated on; versions from before splits existed were random 0.2."""
    snapshot = snapshot or {}
    record = snapshot.get("split")
    if isinstance(record, dict) and record.get("kind"):
        return record
    return {"kind": "random", "fraction": snapshot.get("validation_fraction", 0.2)}


def split_signature(record: dict[str, Any]) -> tuple[Any, ...]:
    """Equal for splits whose metrics are comparable: the same kind and parameters (random
    splits with different seeds count as alike, as before)."""
    kind = record.get("kind", "random")
    if kind == "group":
        return ("group", record.get("field"), tuple(sorted(record.get("values") or [])))
    if kind == "date":
        return ("date", record.get("field") or "created_at", record.get("before"))
    return ("random", float(record.get("fraction", 0.2)))


def describe_split(record: dict[str, Any]) -> str:
    kind = record.get("kind", "random")
    if kind == "group":
        return f"held-out {record.get('field')} in [{', '.join(record.get('values') or [])}]"
    if kind == "date":
        return f"train before {record.get('before')}, validate after ({record.get('field') or 'created_at'})"
    return f"random stratified {round(float(record.get('fraction', 0.2)) * 100)}%"


def group_split(values: Sequence[Any], held_out: Sequence[str]) -> tuple[list[int], list[int]]:
    """(train, validation) indices: items whose value (compared as text) is held out validate,
    all others (missing values too) train. A value is on exactly one side."""
    wanted = {str(v) for v in held_out}
    train, validation = [], []
    for i, value in enumerate(values):
        (validation if value is not None and str(value) in wanted else train).append(i)
    return train, validation


def parse_when(value: Any) -> datetime | None:
    """A timezone-aware datetime from ISO 8601 (a date alone is midnight UTC) or the X API v1
    format (`Sun Nov 11 05:54:01 +0000 2018`); None when unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")
        except ValueError:
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError):
                return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def date_split(values: Sequence[Any], before: date) -> tuple[list[int], list[int], list[int]]:
    """(train, validation, excluded) indices: before the day (UTC midnight) trains, on or after
    validates, unreadable dates are excluded."""
    cut = datetime(before.year, before.month, before.day, tzinfo=UTC)
    train, validation, excluded = [], [], []
    for i, value in enumerate(values):
        when = parse_when(value)
        if when is None:
            excluded.append(i)
        else:
            (train if when < cut else validation).append(i)
    return train, validation, excluded


def stratified_split(keys: Sequence[str], fraction: float,
                     rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """Indices (train, validation): each stratum (equal key: the label set) gives
    round(n * fraction) items to validation, at least one when it has two or more; a singleton
    stays in train. At least one validation item overall. Strata are visited in sorted order and
    shuffled with `rng`, so the same keys and seed give the same split (a training run and a
    simulation round alike)."""
    strata: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        strata[key].append(i)
    train: list[int] = []
    validation: list[int] = []
    for key in sorted(strata):
        members = list(strata[key])
        rng.shuffle(members)
        n_val = 0 if len(members) < 2 else max(1, round(len(members) * fraction))
        n_val = min(n_val, len(members) - 1)
        validation.extend(members[:n_val])
        train.extend(members[n_val:])
    if not validation and len(train) > 1:
        validation.append(train.pop(int(rng.integers(len(train)))))
    return sorted(train), sorted(validation)


def stratified_folds(keys: Sequence[str], k: int, rng: np.random.Generator) -> list[list[int]]:
    """`k` folds (lists of indices, each sorted) for cross-validation: each stratum is shuffled
    with `rng` and dealt round-robin, continuing where the previous stratum stopped, so every
    fold gets within one of n/k items of each stratum and the fold sizes differ by at most one.
    A stratum smaller than k reaches only some folds (5 folds, 3 positives: 3 folds hold one
    each). Empty folds are dropped (fewer items than k)."""
    if k < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {k}")
    strata: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        strata[key].append(i)
    folds: list[list[int]] = [[] for _ in range(k)]
    position = 0
    for key in sorted(strata):
        members = list(strata[key])
        rng.shuffle(members)
        for member in members:
            folds[position % k].append(member)
            position += 1
    return [sorted(fold) for fold in folds if fold]


MISSING_GROUP = "(missing)"


def group_folds(groups: Sequence[Any], keys: Sequence[str], k: int,
                rng: np.random.Generator) -> tuple[list[list[int]], int, str]:
    """(folds, groups, note) for cross-validation by group (issue 18; seed 002's per-class
    thresholds, ../shared/seeds/002_58145e44d9d40203.txt, picked where a new event's scores
    would fall): every fold is whole groups, so each fold is scored by a head that never saw
    its groups.

    `groups`: each row's group value (compared as text; None or "" is missing: those rows form
    one group of their own, MISSING_GROUP). With at most `k` groups, one fold per group
    (leave-one-group-out); with more, groups are merged into `k` folds deterministically:
    largest group first (ties by name), each into the fold with the fewest rows so far (ties:
    the lowest fold). `groups` in the answer counts the distinct groups used.

    Fewer than 2 named groups (the field missing everywhere, or one event only): the
    stratified folds of `stratified_folds(keys, k, rng)`, 0 groups and a note saying why."""
    if k < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {k}")
    if len(groups) != len(keys):
        raise ValueError("groups and keys differ in length")
    names = [MISSING_GROUP if g is None or str(g) == "" else str(g) for g in groups]
    members: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(names):
        members[name].append(i)
    named = [g for g in members if g != MISSING_GROUP]
    if len(named) < 2:
        why = ("no training example has a value of the group field" if not named else
               f"the training examples have one group only ({named[0]!r})")
        folds = stratified_folds(keys, k, rng)
        return folds, 0, (f"group cross-validation fell back to {len(folds)}-fold stratified "
                          f"cross-validation: {why}")
    order = sorted(members, key=lambda g: (-len(members[g]), g))
    if len(order) <= k:
        return [sorted(members[g]) for g in sorted(members)], len(order), ""
    folds: list[list[int]] = [[] for _ in range(k)]
    for g in order:
        smallest = min(range(k), key=lambda f: (len(folds[f]), f))
        folds[smallest].extend(members[g])
    return [sorted(fold) for fold in folds], len(order), ""


class SplitEmpty(ValueError):
    """A validation split leaves one side empty; the message names the split's parameters."""


def split_positions(split: ValidationSplit, keys: Sequence[str], values: Sequence[Any] | None,
                    seed: int) -> tuple[list[int], list[int], list[int]]:
    """(train, validation, excluded) positions of the examples (in example id order) under
    `split`: `keys` are their strata (label sets) for the random split, `values` their metadata
    values of `split.field` for group and date splits. The one split function of a training
    run (models_zoo.services.datasets) and a simulation round (models_zoo.recipe), so both
    divide the same labels alike. SplitEmpty when a side is empty."""
    if split.kind == "random":
        train, validation = stratified_split(keys, split.fraction, np.random.default_rng(seed))
        return train, validation, []
    meta_field = split.field or "created_at"
    values = list(values) if values is not None else [None] * len(keys)
    if split.kind == "group":
        train, validation = group_split(values, split.values)
        excluded: list[int] = []
        where = f"meta {meta_field!r} in {sorted(set(split.values))}"
    else:
        assert split.before is not None  # the model validator guarantees it
        train, validation, excluded = date_split(values, split.before)
        where = f"meta {meta_field!r} on or after {split.before.isoformat()}"
    if not validation:
        raise SplitEmpty(f"validation_split: no annotated example has {where}: the validation side is empty")
    if not train:
        raise SplitEmpty(f"validation_split: every annotated example with a usable {meta_field!r} has "
                         f"{where}: nothing is left to train on")
    return train, validation, excluded
