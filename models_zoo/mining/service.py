"""Mining runs as a use case: validate a request, run seed 003's mining over the project's
embedding store (annotator.mining.algorithm), store proposals or mined negatives, and report.

The REST view, the page, `manage.py mine` and the Celery task all go through these functions.
"""
from __future__ import annotations

import io
import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from annotator.gold import resolve_gold
from annotator.mining import algorithm as A
from annotator.models import Annotation, AnnotationSource, Example, Project, TaskType
from annotator.models_embeddings import EmbeddingSet, EmbeddingState
from annotator.models_mining import MiningMode, MiningRun, MiningState, Proposal, ProposalStatus
from annotator.services.embeddings import (
    check_encoder,
    load_vectors,
    ready_embedding_set,
    request_embedding_set,
)
from annotator.services.projects import ProjectRuleError
from config.enqueue import BrokerUnavailable, enqueue_on_commit
from config.enqueue import enqueue as enqueue_task
from config.failures import public_reason
from config.inputs import INT64_MAX, INT64_MIN, InvalidInput, parse_float, parse_int

logger = logging.getLogger(__name__)

# The task waits for the embedding set this many times (then the run fails, saying so).
MAX_WAITS = 720
MAX_INT = 2**31 - 1  # PositiveIntegerField columns (n, p, n_train_positives)
MINE_TASK = "vigia.mine_negatives"


def _int(data: Mapping[str, Any], field: str, default: int | None, lo: int = INT64_MIN,
         hi: int = INT64_MAX) -> int | None:
    """An integer field of the request through the shared parser (config.inputs): NaN,
    infinity, 1e400, fractions and values outside [lo, hi] are a MiningError naming it."""
    try:
        return parse_int(data.get(field), field, default=default, lo=lo, hi=hi)
    except InvalidInput as exc:
        raise A.MiningError(field, f"{field} {exc.message}.") from None


def positive_example_ids(project: Project, label: str) -> list[int]:
    """Examples whose gold labels (or span labels) include `label`, by training's gold rules
    (annotator.gold.resolve_gold). Only examples where some annotation names the
    label can be positive, so only theirs are read (plain rows, no model instances)."""
    names = list(project.labels.values_list("name", flat=True))
    mentioned = Annotation.objects.filter(example__project=project).exclude(
        source=AnnotationSource.MODEL
    )
    if project.task_type == TaskType.SPANS:
        mentioned = mentioned.filter(spans__contains=[{"label": label}])
    else:
        mentioned = mentioned.filter(labels__contains=[label])
    rows = (
        Annotation.objects.filter(example_id__in=mentioned.values("example_id"))
        .exclude(source=AnnotationSource.MODEL)
        .order_by("example_id", "id")
        .values("id", "example_id", "source", "labels", "spans", "updated_at")
    )
    by_example: dict[int, list[SimpleNamespace]] = defaultdict(list)
    for row in rows:
        by_example[row["example_id"]].append(SimpleNamespace(pk=row["id"], **row))
    out = []
    for example_id, rows_of_example in by_example.items():
        gold = resolve_gold(rows_of_example, project.task_type, names)  # type: ignore[arg-type]
        if gold is not None and (label in gold.labels or any(sp["label"] == label for sp in gold.spans)):
            out.append(example_id)
    return sorted(out)


def annotated_example_ids(project: Project) -> np.ndarray:
    """Every example with any annotation (never proposed: someone or something decided it)."""
    ids = Annotation.objects.filter(example__project=project).values_list("example_id", flat=True)
    return np.unique(np.fromiter(ids, dtype=np.int64))


def parse_params(project: Project, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validated mining parameters from a request body; MiningError names the bad field."""
    label = data.get("label")
    if not label or not isinstance(label, str):
        raise A.MiningError("label", "label is required.")
    names = list(project.labels.values_list("name", flat=True))
    if label not in names:
        raise A.MiningError("label", f"unknown label {label!r}; the project's labels: {', '.join(names)}.")
    band = _int(data, "band", 2)
    tails = data.get("tails") or "upper"
    A.check_band(band, tails)
    mode = data.get("mode") or MiningMode.PROPOSE
    if mode not in MiningMode.values:
        raise A.MiningError("mode", f"mode must be one of {', '.join(MiningMode.values)}, not {mode!r}.")
    if mode == MiningMode.NEGATIVES and project.task_type == TaskType.SINGLELABEL:
        raise A.MiningError("mode", "a single-label project has no 'none of them': mined negatives need a multilabel, binary or span project.")
    try:
        threshold = parse_float(data.get("dedupe_threshold"), "dedupe_threshold",
                                default=A.DEFAULT_DEDUPE_THRESHOLD)
    except InvalidInput as exc:
        raise A.MiningError("dedupe_threshold", f"dedupe_threshold {exc.message}.") from None
    if not 0 < threshold <= 1:
        raise A.MiningError("dedupe_threshold", "dedupe_threshold must be in (0, 1].")

    try:
        encoder = check_encoder(data.get("encoder"))
    except ProjectRuleError as exc:
        raise A.MiningError("encoder", exc.message) from None
    return {
        "label": label, "band": band, "tails": tails, "mode": mode, "encoder": encoder,
        "n": _int(data, "n", None, lo=1, hi=MAX_INT),
        "p": _int(data, "p", A.DEFAULT_P, lo=2, hi=MAX_INT),
        "seed": _int(data, "seed", 0, lo=0, hi=2**63 - 1),
        "dedupe_threshold": threshold,
    }


def band_capacity(project: Project, params: Mapping[str, Any], positives: list[int]) -> int | None:
    """How many unannotated examples fall in the band, when a ready embedding set exists (a
    quick check before queueing: one matrix-vector product); None when there is no set yet."""
    embedding_set = ready_embedding_set(project, params["encoder"])
    if embedding_set is None:
        return None
    ids, vectors = load_vectors(embedding_set)
    positive_rows = np.flatnonzero(np.isin(ids, positives))
    pool_rows = np.flatnonzero(~np.isin(ids, annotated_example_ids(project)))
    if len(positive_rows) == 0 or len(pool_rows) < 2:
        return None  # the job says what is wrong, with the full picture
    s_pool = A.anchor_similarities(vectors, A.anchor_vector(vectors[positive_rows]))[pool_rows]
    mu, sigma = A.fit_normal(s_pool, params["p"], np.random.default_rng(params["seed"]))
    return int(A.band_mask(s_pool, mu, sigma, params["band"], params["tails"]).sum())


def create_mining_run(project: Project, user: Any, data: Mapping[str, Any], *,
                      enqueue_job: bool = True) -> MiningRun:
    """Validate, check the band can hold n (when vectors are ready), store the run and enqueue
    it on commit (unless `enqueue_job` is False: the caller runs it). Raises MiningError
    (-> 400 naming the field)."""
    params = parse_params(project, data)
    positives = positive_example_ids(project, params["label"])
    if not positives:
        raise A.MiningError("label", f"label {params['label']!r} has no positives yet: annotate some first.")
    n = params["n"] or len(positives)
    holds = band_capacity(project, params, positives)
    if holds is not None and n > holds:
        raise A.BandTooSmall(band=params["band"], n=n, holds=holds)
    with transaction.atomic():
        run = MiningRun.objects.create(project=project, created_by=user, **{**params, "n": params["n"]})
        if enqueue_job:
            run_id = run.pk
            enqueue_on_commit(MINE_TASK, [run_id],
                              on_refused=lambda reason: _not_queued(run_id, reason))
    return run


def _not_queued(run_id: int, reason: str) -> None:
    MiningRun.objects.filter(pk=run_id).update(
        state=MiningState.FAILED, error=f"could not enqueue the mining task: {reason}",
        finished_at=timezone.now(),
    )


def enqueue(run_id: int, countdown: float | None = None) -> None:
    """Send (or, while it waits for vectors, send again later) the run's task; a broker that
    refuses fails the run with the reason and raises BrokerUnavailable."""
    try:
        enqueue_task(MINE_TASK, [run_id], countdown=countdown)
    except BrokerUnavailable as exc:
        _not_queued(run_id, exc.reason)
        raise


def _fail(run: MiningRun, message: str) -> str:
    MiningRun.objects.filter(pk=run.pk).update(
        state=MiningState.FAILED, error=message, finished_at=timezone.now()
    )
    return "failed"


def _wait_for_vectors(run: MiningRun) -> str | None:
    """None when a ready set exists; else request it (first time) and say "wait", or fail."""
    if ready_embedding_set(run.project, run.encoder) is not None:
        return None
    existing = EmbeddingSet.objects.filter(project=run.project, encoder=run.encoder).first()
    if existing is not None and existing.state == EmbeddingState.FAILED and run.waits > 0:
        return _fail(run, f"embedding set {existing.pk} failed: {existing.error or 'no reason given'}")
    if run.waits >= MAX_WAITS:
        return _fail(run, f"embedding set not ready after {run.waits} checks")
    if existing is None or run.waits == 0:
        request_embedding_set(run.project, run.encoder)
    MiningRun.objects.filter(pk=run.pk).update(waits=run.waits + 1)
    return "wait"


def run_mining(run_id: int) -> str:
    """The task body: "succeeded", "failed", "wait" (the embedding set is not ready; retry
    later) or "skipped" (the run was already done). Idempotent."""
    run = MiningRun.objects.select_related("project").filter(pk=run_id).first()
    if run is None or run.state in (MiningState.SUCCEEDED, MiningState.FAILED):
        return "skipped"
    try:
        waiting = _wait_for_vectors(run)
        if waiting is not None:
            return waiting
        MiningRun.objects.filter(pk=run.pk).update(state=MiningState.RUNNING, started_at=timezone.now())
        mine_run(run)
    except A.MiningError as exc:
        return _fail(run, f"{exc.field}: {exc.message}")
    except Exception as exc:  # every failure lands on the run the admin watches
        logger.exception("mining run %s failed", run_id)
        return _fail(run, public_reason(exc))
    return "succeeded"


def _normalized_texts(example_ids: list[int]) -> dict[int, str]:
    """{id: normalized text} in one plain query (the draw asks for a batch at a time)."""
    if not example_ids:
        return {}
    table = Example._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, normalized_text FROM {table} WHERE id = ANY(%s)", [example_ids])
        return dict(cursor.fetchall())


def mine_run(run: MiningRun) -> MiningRun:
    """Mine and store, timed end to end (load, score, fit, band, exclusions, draw, store)."""
    started = time.perf_counter()
    project = run.project
    embedding_set = ready_embedding_set(project, run.encoder)
    if embedding_set is None:
        raise A.MiningError("encoder", f"no ready embedding set for encoder {run.encoder!r}.")
    ids, vectors = load_vectors(embedding_set)
    positives = positive_example_ids(project, run.label)
    positive_rows = np.flatnonzero(np.isin(ids, positives))
    if len(positive_rows) == 0:
        raise A.MiningError("label", f"label {run.label!r} has no positives with vectors.")
    pool_rows = np.flatnonzero(~np.isin(ids, annotated_example_ids(project)))
    n = run.n or len(positives)

    def keys(rows: np.ndarray) -> list[str]:
        wanted = [int(i) for i in ids[rows]]
        texts = _normalized_texts(wanted)
        return [A.text_key(texts.get(i, "")) for i in wanted]

    positive_keys = {A.text_key(t) for t in _normalized_texts(positives).values()}
    result = A.mine_difficult_negatives(
        vectors, positive_rows, pool_rows, band=run.band, n=n, rng=np.random.default_rng(run.seed),
        p=run.p, tails=run.tails, dedupe_threshold=run.dedupe_threshold, keys=keys,
        positive_keys=positive_keys,
    )
    picked_ids = ids[result.picked]
    status = ProposalStatus.PENDING if run.mode == MiningMode.PROPOSE else ProposalStatus.MINED_NEGATIVE
    with transaction.atomic():
        store_proposals(run, picked_ids, result.picked_s_an, result.mu, result.sigma, status)
        if run.mode == MiningMode.NEGATIVES:
            Annotation.objects.bulk_create(
                Annotation(example_id=int(eid), user=None, labels=[], spans=[],
                           source=AnnotationSource.MINED)
                for eid in picked_ids
            )
        fields = dict(
            state=MiningState.SUCCEEDED, n=n, mu=result.mu, sigma=result.sigma,
            histogram=result.histogram, positives=len(positive_rows), pool_size=result.pool_size,
            band_size=result.band_size, examined=result.draw.examined,
            excluded_near_duplicates=result.draw.near_duplicates,
            excluded_same_text=result.draw.same_text, proposed=len(picked_ids),
            finished_at=timezone.now(), error="",
        )
        fields["elapsed_s"] = round(time.perf_counter() - started, 4)
        MiningRun.objects.filter(pk=run.pk).update(**fields)
    for name, value in fields.items():
        setattr(run, name, value)
    return run


def store_proposals(run: MiningRun, example_ids: np.ndarray, s_an: np.ndarray, mu: float,
                    sigma: float, status: str) -> None:
    """Insert the proposals in one statement: COPY (a few ms for thousands of rows, where the
    ORM's bulk_create spends most of a second building SQL)."""
    buffer = io.StringIO()
    for eid, s in zip(example_ids, s_an, strict=True):
        buffer.write(f"{run.pk}\t{int(eid)}\t{float(s)!r}\t{run.band}\t{mu!r}\t{sigma!r}\t{status}\n")
    table = Proposal._meta.db_table
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY {table} (run_id, example_id, s_an, band, mu, sigma, status) FROM STDIN"
        ) as copy:
            copy.write(buffer.getvalue())


def run_payload(run: MiningRun) -> dict[str, Any]:
    """The REST body of a mining run (GET /mining/{id})."""
    return {
        "id": run.pk, "project": run.project_id, "state": run.state, "label": run.label,
        "band": run.band, "tails": run.tails, "n": run.n, "p": run.p, "seed": run.seed,
        "dedupe_threshold": run.dedupe_threshold, "mode": run.mode, "encoder": run.encoder,
        "mu": run.mu, "sigma": run.sigma, "histogram": run.histogram, "proposed": run.proposed,
        "positives": run.positives, "pool_size": run.pool_size, "band_size": run.band_size,
        "excluded": {"near_duplicates": run.excluded_near_duplicates,
                     "same_text": run.excluded_same_text},
        "elapsed_s": run.elapsed_s, "error": run.error, "serves_queue": run.serves_queue,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }
