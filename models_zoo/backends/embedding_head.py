"""`embedding_head`: a frozen sentence encoder + a scikit-learn head.

Seeds 000/001 (../shared/seeds/000_6439293a44f381f6.txt, 001_5f3a602ec41e8bc1.txt) report a
Random Forest on frozen sentence embeddings as the classical baseline (macro F1 ~0.61); we offer
that head and default to logistic regression, which retrains in seconds and gives calibrated
probabilities: the default for the live annotation loop.

No pickle/joblib: the logistic-regression head is saved as its coefficient matrix and intercepts,
the random forest as the flattened arrays of each tree (children, split feature, threshold and the
class probabilities stored at each node), and both predict with the same numpy code before and
after a save, so a loaded artifact reproduces predictions exactly.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from models_zoo.artifacts import read_manifest, write_manifest
from models_zoo.backends import _classify as C
from models_zoo.backends._encoders import DEFAULT_BATCH_SIZE, DEFAULT_ENCODER, encode_sentences
from models_zoo.backends._forest import (
    forest_from_sklearn,
    forest_predict,
    load_forest,
    save_forest,
)
from models_zoo.backends.base import (
    VALIDATION_GROUP,
    Backend,
    BackendConfig,
    BackendError,
    ClassifierConfig,
    FitReport,
    Item,
    ItemPrediction,
    ProgressCallback,
    ProgressEvent,
    shown_when,
)
from models_zoo.splits import group_folds, stratified_folds
from models_zoo.thresholds import out_of_fold_scores

HEAD_FILE = "head.safetensors"
# Progress of a run in PROGRESS_SCALE steps: encoding takes the first ENCODE_SHARE when texts
# are encoded (it dominates a cold run), the head FIT_SHARE of the rest, calibration the remainder.
PROGRESS_SCALE = 1000
ENCODE_SHARE = 0.9
FIT_SHARE = 0.8


# The training form shows each head's own settings only while that head is chosen.
LOGISTIC_ONLY = shown_when("head", "logistic_regression")
FOREST_ONLY = shown_when("head", "random_forest")


class EmbeddingHeadConfig(ClassifierConfig):
    model_path_fields: ClassVar[dict[str, str]] = {"encoder": "directory"}
    encoder: str = Field(
        DEFAULT_ENCODER,
        description='Sentence-transformers model name or local directory; "default" is the '
        "packaged all-MiniLM-L6-v2, resolved at run time so artifacts stay portable.",
    )
    head: Literal["logistic_regression", "random_forest"] = Field(
        "logistic_regression",
        description="Classifier on the frozen embeddings: logistic regression (fast, calibrated) "
        "or random forest (the seed cards' classical baseline).",
    )
    C: float = Field(1.0, gt=0, description="Inverse L2 regularisation strength of the logistic regression.",
                     json_schema_extra=LOGISTIC_ONLY)
    max_iter: int = Field(2000, ge=10, le=1_000_000, description="Solver iterations for the logistic regression.",
                          json_schema_extra=LOGISTIC_ONLY)
    # Defaults measured on group hold-outs (bench/defaults_grid.py, docs/backends.md "Measured defaults"):
    # logistic regression, no class weighting and macro-F1 thresholds did best on average over
    # CrisisLex T6 leave-one-event-out, CrisisLex T26 by event and HatEval train -> dev, and
    # (issue 18) held at 10%, 3% and 1% positives too.
    class_weight: Literal["balanced", "none"] = Field(
        "none", description="Re-weight classes inversely to their frequency (rare labels): "
        "balanced; none (the measured default) leaves the balance to the calibrated threshold."
    )
    threshold_objective: Literal["f1_positive", "f1_macro", "target_recall", "target_precision", "none"] = Field(
        "f1_macro",
        description="What each label's threshold optimises on validation: F1 of the positive class, "
        "macro-F1 over both classes (the measured default), a target recall or precision per label, "
        "or none (0.5).",
        json_schema_extra=VALIDATION_GROUP,
    )
    # Issue 18 (bench/defaults_grid.py rare, docs/backends.md "Measured defaults"): cross-validation
    # beat the validation split at 3% and 1% positives and tied at 10% and on balanced sets.
    threshold_calibration: Literal["validation", "cross_validation", "group_cross_validation"] = Field(
        "cross_validation",
        description="Where each label's threshold is picked: on out-of-fold scores of the "
        "training examples (cross-validation, `calibration_folds` folds: a rare label's "
        "threshold rests on all its training positives; the measured default), on out-of-group "
        "scores (group cross-validation: folds are whole groups of `calibration_group_field`, "
        "e.g. leave-one-event-out, for models that must carry to a new event), or on the "
        "validation split. Metrics are measured on the validation split either way.",
        json_schema_extra=VALIDATION_GROUP,
    )
    calibration_folds: int = Field(5, ge=2, le=20, description="Folds of the cross-validation "
                                   "that calibrates the thresholds (threshold_calibration: "
                                   "cross_validation; group_cross_validation: at most this many, "
                                   "one per group while there are few groups).",
                                   json_schema_extra={**VALIDATION_GROUP,
                                                      **shown_when("threshold_calibration", "cross_validation",
                                                                   "group_cross_validation")})
    calibration_group_field: str = Field(
        "event", min_length=1, max_length=100,
        description="Metadata key whose values are the groups of group cross-validation "
        "(threshold_calibration: group_cross_validation); with fewer than 2 groups among the "
        "training examples it falls back to stratified folds and the version says so.",
        json_schema_extra={**VALIDATION_GROUP, **shown_when("threshold_calibration", "group_cross_validation")})
    n_estimators: int = Field(300, ge=1, le=5000, description="Trees in the random forest.",
                              json_schema_extra=FOREST_ONLY)
    max_depth: int | None = Field(None, ge=1, le=10_000, description="Depth limit of each tree (None: grow fully).",
                                  json_schema_extra=FOREST_ONLY)
    min_samples_leaf: int = Field(1, ge=1, le=1_000_000, description="Minimum items per leaf of each tree.",
                                  json_schema_extra=FOREST_ONLY)
    embed_batch_size: int = Field(DEFAULT_BATCH_SIZE, ge=1, le=4096, description="Texts per encoder forward "
                                  "pass (length-sorted batches; default measured by bench/encoder.py).")
    normalize_embeddings: bool = Field(True, description="L2-normalise embeddings before the head.")
    device: str = Field("auto", description='"auto" (CUDA when present), "cpu" or "cuda".')

    @field_validator("calibration_group_field")
    @classmethod
    def _group_field(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("calibration_group_field must name a metadata key (e.g. event), not blanks")
        return value.strip()


def _label_keys(y: np.ndarray) -> list[str]:
    """Each row's label set as text ("0|2"): what the folds stratify on."""
    return ["|".join(str(j) for j in np.flatnonzero(row)) for row in y]


class EmbeddingHeadBackend(Backend):
    """Frozen sentence encoder + logistic regression / random forest head."""

    name: ClassVar[str] = "embedding_head"
    task_types: ClassVar[tuple[str, ...]] = ("multilabel", "singlelabel", "binary", "multimodal-multilabel")
    Config: ClassVar[type[BackendConfig]] = EmbeddingHeadConfig
    config: EmbeddingHeadConfig

    def __init__(self, labels: Sequence[str], task_type: str,
                 config: BackendConfig | dict[str, Any] | None = None) -> None:
        super().__init__(labels, task_type, config)
        C.check_labels_for_task(self.labels, task_type)
        # Logistic head: coef (n_labels, dim), intercept (n_labels,). Forest head: dict of arrays.
        self._coef: np.ndarray | None = None
        self._intercept: np.ndarray | None = None
        self._forest: dict[str, np.ndarray] | None = None

    # --- encoding ---------------------------------------------------------------------------
    def encode(self, texts: Sequence[str], progress: ProgressCallback | None = None) -> np.ndarray:
        """Embeddings (n, dim) float32 of `texts`, batched by `embed_batch_size`; `progress`
        gets "encoding n of N texts" events (the first ENCODE_SHARE of a run)."""
        cfg = self.config
        report = None
        if progress is not None:
            def report(done: int, total: int) -> None:
                step = round(PROGRESS_SCALE * ENCODE_SHARE * done / max(total, 1))
                progress(ProgressEvent(step=step, total_steps=PROGRESS_SCALE,
                                       message=f"encoding {done} of {total} texts"))
        return encode_sentences(cfg.encoder, texts, batch_size=cfg.embed_batch_size,
                                normalize=cfg.normalize_embeddings, device=cfg.device,
                                progress=report)

    @property
    def embed_batch_size(self) -> int:
        return self.config.embed_batch_size

    # --- training ---------------------------------------------------------------------------
    def fit(self, train: Sequence[Item], validation: Sequence[Item],
            progress: ProgressCallback | None = None) -> FitReport:
        C.check_splits(train, validation)
        C.gold_matrix(train, self.labels, self.task_type, "train")  # fail before encoding
        C.gold_matrix(validation, self.labels, self.task_type, "validation")
        vectors = self.encode([item.text for item in [*train, *validation]], progress)
        n = len(train)
        return self.fit_embeddings(vectors[:n], train, vectors[n:], validation, progress,
                                   encoded=True)

    def fit_embeddings(self, x_train: np.ndarray, train: Sequence[Item], x_val: np.ndarray,
                       validation: Sequence[Item], progress: ProgressCallback | None = None,
                       encoded: bool = False) -> FitReport:
        """Fit the head on precomputed embeddings (rows aligned with the items, whose gold
        labels are used; e.g. a cached EmbeddingSet), calibrate and measure on validation.

        Progress phases (out of PROGRESS_SCALE steps, so the run's ETA follows them): encoding
        (`encoded=True`: the caller encoded, the first ENCODE_SHARE), fitting the head, then
        calibrating the thresholds, which reports the validation log loss."""
        C.check_splits(train, validation)
        if len(x_train) != len(train) or len(x_val) != len(validation):
            raise BackendError("embeddings and items differ in length")
        y_train = C.gold_matrix(train, self.labels, self.task_type, "train")
        y_val = C.gold_matrix(validation, self.labels, self.task_type, "validation")
        start = ENCODE_SHARE if encoded else 0.0
        fit_end = start + (1 - start) * FIT_SHARE

        def report(fraction: float, message: str, loss: float | None = None) -> None:
            if progress is not None:
                progress(ProgressEvent(step=round(PROGRESS_SCALE * fraction), total_steps=PROGRESS_SCALE,
                                       loss=loss, message=message))

        report(start, f"fitting the {self.config.head.replace('_', ' ')} head on {len(train)} examples")
        self._fit_head(np.asarray(x_train), y_train)
        scores = self._scores(np.asarray(x_val))
        calibration, folds, method = None, None, None
        if self.config.threshold_calibration == "cross_validation":
            report(fit_end, f"calibrating thresholds by {self.config.calibration_folds}-fold "
                            f"cross-validation on {len(train)} training examples")
            calibration, folds = self.out_of_fold(np.asarray(x_train), y_train)
        elif self.config.threshold_calibration == "group_cross_validation":
            field = self.config.calibration_group_field
            report(fit_end, f"calibrating thresholds by cross-validation over the {field!r} groups "
                            f"of {len(train)} training examples")
            groups = [(item.meta or {}).get(field) for item in train]
            calibration, folds, method = self.out_of_group(np.asarray(x_train), y_train, groups)
        else:
            report(fit_end, f"calibrating thresholds on {len(validation)} validation examples")
        self.thresholds, self.metrics = C.calibrate_for(self.config, y_val, scores, self.labels,
                                                        self.task_type, calibration, folds, method)
        loss = C.validation_log_loss(y_val, scores, self.task_type)
        report(1.0, f"done: validation log loss {loss:.4f}", loss=loss)
        return FitReport(metrics=self.metrics, thresholds=self.thresholds)

    def _fit_head(self, x: np.ndarray, y: np.ndarray) -> None:
        if self.config.head == "logistic_regression":
            self._fit_logistic(x, y)
        else:
            self._fit_forest(x, y)

    def out_of_fold(self, x: np.ndarray, y: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], int]:
        """((y, out-of-fold scores), folds) of the training rows for threshold calibration by
        cross-validation (issue 18): the rows are dealt into `calibration_folds` folds
        stratified on their label sets (seeded by `seed`), and each fold is scored by a head of
        the same config fitted on the other folds. This backend's own head is not touched."""
        folds = stratified_folds(_label_keys(y), self.config.calibration_folds, np.random.default_rng(self.config.seed))
        return (y, out_of_fold_scores(len(x), len(self.labels), folds, self._fit_and_score(x, y))), len(folds)

    def out_of_group(self, x: np.ndarray, y: np.ndarray, groups: Sequence[Any],
                     ) -> tuple[tuple[np.ndarray, np.ndarray], int, dict[str, Any]]:
        """Like `out_of_fold`, with folds of whole groups (`models_zoo.splits.group_folds`:
        leave-one-group-out up to `calibration_folds` groups, merged beyond): each group is
        scored by a head fitted on the other groups only, as a new event will be. Returns
        ((y, out-of-group scores), folds, the report's method fields)."""
        folds, n_groups, note = group_folds(groups, _label_keys(y), self.config.calibration_folds,
                                            np.random.default_rng(self.config.seed))
        return ((y, out_of_fold_scores(len(x), len(self.labels), folds, self._fit_and_score(x, y))), len(folds),
                {"method": "group_cross_validation", "groups": n_groups,
                 "group_field": self.config.calibration_group_field, "note": note})

    def _fit_and_score(self, x: np.ndarray, y: np.ndarray) -> Any:
        """fit_and_score(train, held) for `out_of_fold_scores`: a head of the same config."""
        def fit_and_score(train: np.ndarray, held: np.ndarray) -> np.ndarray:
            head = type(self)(self.labels, self.task_type, self.config)
            head._fit_head(x[train], y[train])
            return head._scores(x[held])

        return fit_and_score

    def _class_weight(self) -> str | None:
        return "balanced" if self.config.class_weight == "balanced" else None

    def _fit_logistic(self, x: np.ndarray, y: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        cfg = self.config
        dim = x.shape[1]
        if self.task_type == "singlelabel":
            target = y.argmax(axis=1)
            present = np.unique(target)
            coef = np.zeros((len(self.labels), dim))
            # A class absent from training can never be predicted: a very low intercept.
            intercept = np.full(len(self.labels), -30.0)
            if len(present) == 1:
                intercept[present[0]] = 0.0
            else:
                model = LogisticRegression(C=cfg.C, max_iter=cfg.max_iter,
                                           class_weight=self._class_weight(), random_state=cfg.seed)
                model.fit(x, target)
                if len(present) == 2:
                    # sklearn keeps one row for two classes; two rows give the same softmax.
                    coef[present[1]] = model.coef_[0] / 2
                    coef[present[0]] = -model.coef_[0] / 2
                    intercept[present[1]] = model.intercept_[0] / 2
                    intercept[present[0]] = -model.intercept_[0] / 2
                else:
                    coef[present] = model.coef_
                    intercept[present] = model.intercept_
        else:
            coef = np.zeros((len(self.labels), dim))
            intercept = np.zeros(len(self.labels))
            for j in range(len(self.labels)):
                column = y[:, j]
                if column.min() == column.max():
                    # One class only in training: predict its (clipped) prior, a constant.
                    prior = np.clip(column.mean(), 1e-4, 1 - 1e-4)
                    intercept[j] = np.log(prior / (1 - prior))
                    continue
                model = LogisticRegression(C=cfg.C, max_iter=cfg.max_iter,
                                           class_weight=self._class_weight(), random_state=cfg.seed)
                model.fit(x, column)
                coef[j] = model.coef_[0]
                intercept[j] = model.intercept_[0]
        self._coef, self._intercept, self._forest = coef, intercept, None

    def _fit_forest(self, x: np.ndarray, y: np.ndarray) -> None:
        from sklearn.ensemble import RandomForestClassifier

        cfg = self.config
        model = RandomForestClassifier(
            n_estimators=cfg.n_estimators, max_depth=cfg.max_depth,
            min_samples_leaf=cfg.min_samples_leaf, class_weight=self._class_weight(),
            random_state=cfg.seed, n_jobs=1,
        )
        target = y.argmax(axis=1) if self.task_type == "singlelabel" else y
        if self.task_type != "singlelabel" and y.shape[1] == 1:
            target = y[:, 0]
        model.fit(x, target)
        self._forest = forest_from_sklearn(model, self.task_type, len(self.labels))
        self._coef = self._intercept = None

    # --- prediction -------------------------------------------------------------------------
    def _scores(self, x: np.ndarray) -> np.ndarray:
        if self._forest is not None:
            return forest_predict(self._forest, x)
        if self._coef is None or self._intercept is None:
            raise BackendError("embedding_head is not fitted: call fit() or load() first")
        z = x.astype(np.float64) @ self._coef.T + self._intercept
        return C.softmax(z) if self.task_type == "singlelabel" else C.sigmoid(z)

    def predict_embeddings(self, x: np.ndarray) -> list[ItemPrediction]:
        """Predictions from precomputed embeddings (e.g. a cached EmbeddingSet)."""
        return C.to_predictions(self._scores(np.asarray(x)), self.labels, self.task_type, self.thresholds)

    def predict(self, inputs: Sequence[Item]) -> list[ItemPrediction]:
        return self.predict_embeddings(self.encode([item.text for item in inputs]))

    # --- artifacts --------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        if self._forest is not None:
            save_forest(self._forest, target / HEAD_FILE)
        elif self._coef is not None and self._intercept is not None:
            from safetensors.numpy import save_file

            save_file({"coef": np.ascontiguousarray(self._coef),
                       "intercept": np.ascontiguousarray(self._intercept)},
                      str(target / HEAD_FILE))
        else:
            raise BackendError("embedding_head is not fitted: nothing to save")
        write_manifest(target, self, head_file=HEAD_FILE)

    @classmethod
    def load(cls, directory: str | Path) -> EmbeddingHeadBackend:
        source = Path(directory)
        manifest = read_manifest(source)
        if manifest["backend"] != cls.name:
            raise BackendError(f"{source}: artifact is for backend {manifest['backend']!r}, not {cls.name!r}")
        backend = cls(manifest["labels"], manifest["task_type"], manifest["config"])
        backend.thresholds = {k: float(v) for k, v in manifest.get("thresholds", {}).items()}
        backend.metrics = manifest.get("metrics", {})
        head_path = source / manifest.get("head_file", HEAD_FILE)
        if not head_path.is_file():
            raise FileNotFoundError(f"{head_path}: head weights are missing")
        if backend.config.head == "random_forest":
            backend._forest = load_forest(head_path)
        else:
            from safetensors.numpy import load_file

            arrays = load_file(str(head_path))
            backend._coef, backend._intercept = arrays["coef"], arrays["intercept"]
        return backend

