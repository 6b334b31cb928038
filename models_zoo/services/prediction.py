"""Predictions from a project's current model: request payloads, one-off predictions for the REST
API, and predicting every example of a project into Prediction rows (a Celery job).

Texts reach the model the way the training data did (models_zoo.services.datasets): classifiers
see the project's normalized text (seeds 000/001 `clean_tweet`, or the seed 003 placeholders),
span taggers the raw text, because their character offsets must point into what the client sent.
"""

from __future__ import annotations

import base64
import binascii
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from annotator.models import Example, Membership, Project, Role, TaskType
from annotator.permissions import require_role
from models_zoo.backends.base import Item, ItemPrediction
from models_zoo.models import ModelVersion, Prediction
from models_zoo.services.chunked_prediction import start_prediction_job
from models_zoo.services.embedding_reuse import predict_in_batches
from models_zoo.services.items import item_for_example, model_text
from models_zoo.services.prediction_rows import write_predictions
from models_zoo.serving import (
    LoadedModel,
    ModelCache,
    NoCurrentModel,
    VersionRef,
    current_version_ref,
    get_model_cache,
    version_ref,
)

MAX_ITEMS_PER_REQUEST = 256
# Examples per model call and per transaction in a whole-project job: big enough to batch the
# encoder well, small enough that progress moves and a killed worker loses little.
PROJECT_BATCH_SIZE = 256
ITEM_FIELDS = {"text", "image"}

__all__ = [
    "MAX_ITEMS_PER_REQUEST",
    "NoCurrentModel",
    "PredictionInputError",
    "TooManyItems",
    "parse_predict_payload",
    "predict_items",
    "predict_project",
    "prediction_status",
    "start_project_prediction",
]


class PredictionInputError(ValueError):
    """The request body is wrong; `errors` names each bad item (index), field and problem."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__("; ".join(_describe(e) for e in errors))


class TooManyItems(ValueError):
    def __init__(self, count: int, limit: int = MAX_ITEMS_PER_REQUEST) -> None:
        self.count = count
        self.limit = limit
        super().__init__(
            f"too many items: {count}; the limit is {limit} items per request, split the batch"
        )


def _describe(error: dict[str, Any]) -> str:
    where = f"item {error['item']}: " if error.get("item") is not None else ""
    return f"{where}{error.get('field', 'body')}: {error['message']}"


def _decode_image(value: Any) -> tuple[bytes | None, str | None]:
    """Image bytes from base64 (a `data:...;base64,` prefix is accepted), or an error message."""
    if not isinstance(value, str):
        return None, "must be a base64 string"
    if value.startswith("data:") and "," in value:
        value = value.split(",", 1)[1]
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        return None, f"not valid base64 ({exc})"
    if not data:
        return None, "is empty"
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - Pillow comes with transformers' image extras
        return data, None
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        return None, f"decodes to {len(data)} bytes that are not a readable image ({exc})"
    return data, None


def parse_predict_payload(
    payload: Any, task_type: str, max_items: int = MAX_ITEMS_PER_REQUEST
) -> list[tuple[str, bytes | None]]:
    """(text, image bytes) per input from `{"texts": [...]}` or `{"items": [{"text", "image"}]}`.

    Raises TooManyItems above `max_items` (checked before any item is decoded, so a huge batch
    costs nothing more) and PredictionInputError listing every bad item by index. Images are accepted
    for every task type; text may be empty only when an image is given to a multi-modal project.
    """
    if not isinstance(payload, dict):
        raise PredictionInputError(
            [{"field": "body", "message": 'expected a JSON object with "texts" or "items"'}]
        )
    keys = {"texts", "items"} & set(payload)
    # model_version pins the version (read by `pinned_version_ref`, not here).
    unknown = sorted(set(payload) - {"texts", "items", "model_version"})
    if unknown:
        raise PredictionInputError(
            [
                {"field": name, "message": 'unknown field; send "texts" or "items" (and optionally "model_version")'}
                for name in unknown
            ]
        )
    if len(keys) != 1:
        message = 'send either "texts" or "items", not both' if keys else 'send "texts" or "items"'
        raise PredictionInputError([{"field": "body", "message": message}])
    key = keys.pop()
    entries = payload[key]
    if not isinstance(entries, list):
        raise PredictionInputError([{"field": key, "message": "must be a list"}])
    if not entries:
        raise PredictionInputError([{"field": key, "message": "must hold at least one item"}])
    if len(entries) > max_items:
        raise TooManyItems(len(entries), max_items)

    multimodal = task_type == TaskType.MULTIMODAL_MULTILABEL
    errors: list[dict[str, Any]] = []
    inputs: list[tuple[str, bytes | None]] = []
    for index, entry in enumerate(entries):
        if key == "texts":
            entry = {"text": entry}
        elif not isinstance(entry, dict):
            errors.append({"item": index, "field": "item", "message": "must be an object"})
            continue
        extra = sorted(set(entry) - ITEM_FIELDS)
        if extra:
            errors.append(
                {
                    "item": index,
                    "field": extra[0],
                    "message": 'unknown field; items take "text" and "image"',
                }
            )
            continue
        text = entry.get("text", "")
        image: bytes | None = None
        if entry.get("image") not in (None, ""):
            image, problem = _decode_image(entry["image"])
            if problem:
                errors.append({"item": index, "field": "image", "message": f"image {problem}"})
                continue
        if text is None:
            text = ""
        if not isinstance(text, str):
            errors.append({"item": index, "field": "text", "message": "text must be a string"})
            continue
        if not text.strip() and not (multimodal and image is not None):
            message = "text is empty"
            if multimodal:
                message += " and there is no image"
            errors.append({"item": index, "field": "text", "message": message})
            continue
        inputs.append((text, image))
    if errors:
        raise PredictionInputError(errors)
    return inputs


def prediction_payload(prediction: ItemPrediction) -> dict[str, Any]:
    """JSON-ready dict: scores, labels, spans and any backend extras (e.g. attention weights)."""
    out: dict[str, Any] = {
        "scores": {name: float(p) for name, p in prediction.scores.items()},
        "labels": list(prediction.labels),
        "spans": list(prediction.spans),
    }
    for key, value in prediction.extras.items():
        out.setdefault(key, value)
    return out


@dataclass
class PredictionResult:
    model_version: int
    backend: str
    thresholds: dict[str, float]
    predictions: list[dict[str, Any]]
    # Seconds in the model's forward (not in as_dict; the REST view reports it as Server-Timing).
    model_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "backend": self.backend,
            "thresholds": self.thresholds,
            "predictions": self.predictions,
        }


_PROJECT_FOR_PREDICTION: str | None = None
_MAX_ID = 2**63 - 1  # bigint


def _project_for_prediction_sql() -> str:
    global _PROJECT_FOR_PREDICTION
    if _PROJECT_FOR_PREDICTION is None:
        # At most one row each: (user, project) and the current version per project are unique.
        _PROJECT_FOR_PREDICTION = (
            "SELECT p.*, m.role AS _member_role, v.id AS _current_id, "
            "v.artifact_dir AS _current_artifact_dir, v.backend AS _current_backend, "
            "v.artifact_checksum AS _current_artifact_checksum "
            f"FROM {Project._meta.db_table} p "
            f"LEFT JOIN {Membership._meta.db_table} m ON m.project_id = p.id AND m.user_id = %s "
            f"LEFT JOIN {ModelVersion._meta.db_table} v ON v.project_id = p.id AND v.is_current = %s "
            "WHERE p.id = %s"
        )
    return _PROJECT_FOR_PREDICTION


def project_for_prediction(user: Any, project_id: int | str) -> Project:
    """`get_project_for(user, project_id, VIEWER)` plus the project's current version, in one
    fixed SQL statement, so a prediction request needs no query of its own for the version.
    (Built with the ORM as subquery annotations, compiling that query cost 5-6 ms of a one-item
    prediction on 2 cores; this takes 1 ms with its database round trip.) Same answers as
    get_project_for: 404 for outsiders and unknown ids, the caller's role on `current_role`;
    the version is read by `annotated_version_ref`."""
    from django.http import Http404

    try:
        pk = int(project_id)
    except (TypeError, ValueError):
        raise Http404("No such project.") from None
    if not 0 < pk <= _MAX_ID:  # the URL takes any digits; a bigint column overflows past 64 bits
        raise Http404("No such project.")
    user_id = user.pk if user.is_authenticated else None
    rows = list(Project.objects.raw(_project_for_prediction_sql(), [user_id, True, pk]))
    if not rows:
        raise Http404("No such project.")
    project = rows[0]
    return require_role(user, project, project._member_role, Role.VIEWER)  # type: ignore[attr-defined]


def annotated_version_ref(project: Project) -> VersionRef | None:
    """The current version loaded by `project_for_prediction`; None when the project was loaded
    another way (then `predict_items` queries). Raises NoCurrentModel when it has none."""
    if not hasattr(project, "_current_id"):
        return None
    if project._current_id is None:  # type: ignore[attr-defined]
        raise NoCurrentModel(project.pk)
    return VersionRef(
        id=project._current_id,  # type: ignore[attr-defined]
        project_id=project.pk,
        artifact_dir=project._current_artifact_dir,  # type: ignore[attr-defined]
        backend_name=project._current_backend,  # type: ignore[attr-defined]
        artifact_checksum=project._current_artifact_checksum or "",  # type: ignore[attr-defined]
    )


class VersionNotInProject(LookupError):
    """The pinned model_version is not a version of the project (404)."""


def pinned_version_ref(project: Project, raw: Any) -> VersionRef | None:
    """The version a request pins with `model_version` (None: not pinned, use the current one).

    Raises PredictionInputError (400) when it is not a positive integer, VersionNotInProject
    (404) when it names no version of this project."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw <= _MAX_ID:
        raise PredictionInputError(
            [{"field": "model_version", "message": f"must be a model version id (a positive integer), got {raw!r}"}]
        )
    row = (
        ModelVersion.objects.filter(pk=raw, project_id=project.pk)
        .values_list("id", "artifact_dir", "backend")
        .first()
    )
    if row is None:
        raise VersionNotInProject(f"model version {raw} is not a version of project {project.pk}")
    return VersionRef(id=row[0], project_id=project.pk, artifact_dir=row[1], backend_name=row[2])


def predict_items(
    project: Project,
    inputs: Sequence[tuple[str, bytes | None]],
    cache: ModelCache | None = None,
    version: VersionRef | None = None,
) -> PredictionResult:
    """Predict with `version` (pinned by the request) or else the project's current version
    (loaded once per process, see serving).

    The current version comes with the project when `project_for_prediction` loaded it, else
    from one query; either way it is read in this request, so a promotion is served
    from the next request on."""
    cache = cache or get_model_cache()
    ref = version if version is not None else annotated_version_ref(project)
    loaded = cache.get(ref) if ref is not None else cache.current(project.pk)
    items = [Item(text=model_text(project, text), image=image) for text, image in inputs]
    started = time.perf_counter()
    predictions = loaded.predict(items)
    model_seconds = time.perf_counter() - started
    if len(predictions) != len(items):
        raise RuntimeError(
            f"backend {loaded.backend.name!r} returned {len(predictions)} predictions for "
            f"{len(items)} inputs"
        )
    return PredictionResult(
        model_version=loaded.version_id,
        backend=loaded.backend.name,
        thresholds=_thresholds_of(loaded, predictions),
        predictions=[prediction_payload(p) for p in predictions],
        model_seconds=model_seconds,
    )


def _thresholds_of(loaded: LoadedModel, predictions: Sequence[ItemPrediction]) -> dict[str, float]:
    # The cut-offs the backend applied; identical for every item of one version.
    if predictions and predictions[0].thresholds:
        return {k: float(v) for k, v in predictions[0].thresholds.items()}
    return {k: float(v) for k, v in loaded.thresholds.items()}


# --- whole-project prediction job -----------------------------------------------------------


def start_project_prediction(project: Project) -> dict[str, Any]:
    """Predict every example of the project with the current version, in chunks.

    A `PredictionJob` (models_zoo.services.chunked_prediction) cuts the examples that version
    has not predicted yet into id ranges, one Celery task `vigia.predict_chunk` each, so every
    worker shares the work and a done chunk is never redone. The job is pinned to the version
    current now: a promotion while it runs does not mix versions, and the new version gets its
    own job. Raises NoCurrentModel when the project has no current version.
    """
    ref = current_version_ref(project.pk)
    job = start_prediction_job(project, ref.id)
    return {"job": job.pk, "model_version": ref.id, "chunks": job.total_chunks}


def _pending_examples(project_id: int, version_id: int, after_id: int, limit: int) -> list[Example]:
    return list(
        Example.objects.filter(project_id=project_id, id__gt=after_id)
        .exclude(predictions__model_version_id=version_id)
        .order_by("id")[:limit]
    )


def predict_project(
    project_id: int,
    version_id: int,
    batch_size: int = PROJECT_BATCH_SIZE,
    cache: ModelCache | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Store a Prediction for every example of the project that has none for `version_id`.

    Resumable and idempotent: examples already predicted by this version are skipped, each batch
    commits on its own (so progress is visible and a killed worker loses one batch at most), and
    rows are upserted on (example, model_version), so two overlapping jobs cannot duplicate.
    Returns the number of predictions written.
    """
    project = Project.objects.get(pk=project_id)
    ref = version_ref(version_id)
    if ref.project_id != project_id:
        raise ValueError(f"model version {version_id} belongs to project {ref.project_id}")
    loaded = (cache or get_model_cache()).get(ref)
    written = 0
    last_id = 0
    while True:
        batch = _pending_examples(project_id, version_id, last_id, batch_size)
        if not batch:
            break
        last_id = batch[-1].id
        predictions = predict_in_batches(loaded.backend, project, [e.id for e in batch],
                                         [item_for_example(e, project) for e in batch], batch_size)
        written += write_predictions(version_id, [e.id for e in batch], predictions)
        if progress is not None:
            progress(written)
    return written


def prediction_status(project: Project, version_id: int | None = None) -> dict[str, Any]:
    """How many of the project's examples have a prediction from the version (default current)."""
    if version_id is None:
        version_id = (
            ModelVersion.objects.filter(project=project, is_current=True)
            .values_list("id", flat=True)
            .first()
        )
    elif not ModelVersion.objects.filter(project=project, pk=version_id).exists():
        raise LookupError(f"model version {version_id} is not a version of project {project.pk}")
    examples = Example.objects.filter(project=project).count()
    predicted = Prediction.objects.filter(model_version_id=version_id).count() if version_id else 0
    return {
        "model_version": version_id,
        "examples": examples,
        "predicted": predicted,
        "remaining": max(0, examples - predicted),
        "progress": 1.0 if examples == 0 else round(predicted / examples, 4),
        "complete": version_id is not None and predicted >= examples,
    }
