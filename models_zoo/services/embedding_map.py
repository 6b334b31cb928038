"""The embedding map of a project: computed by a Celery job (`vigia.embedding_map`) from the
project's stored vectors (the embedding store), cached as `map.json` beside the embedding set's
shards in the shared storage (so the web host reads what a worker computed) and recomputed when
the set changed (its vector count, deletions or ready time).

Points are coloured by gold label (the resolved human annotations) or by the current version's
stored prediction; each links to the example."""
from __future__ import annotations

import json
from typing import Any

from django.utils import timezone

from annotator.gold import gold_examples
from annotator.models import Example, Project
from annotator.models_embeddings import EmbeddingSet
from annotator.services.embeddings import load_vectors, ready_embedding_set, storage_prefix
from config.enqueue import BrokerUnavailable, enqueue
from config.storage import StorageError, get_storage
from models_zoo.embedding_map import MIN_UMAP, project_map
from models_zoo.models import Prediction
from models_zoo.services.versions import current_version

MAP_FILE = "map.json"
PENDING_FILE = "map.pending"
PENDING_SECONDS = 600
MAX_POINTS = 20000
PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#db2777", "#0d9488", "#65a30d"]
NONE_COLOUR = "#9ca3af"


class MapUnavailable(LookupError):
    pass


def map_set(project: Project) -> EmbeddingSet | None:
    """The ready set the map is drawn from: the default encoder's, else any ready one."""
    es = ready_embedding_set(project)
    if es is not None:
        return es
    return EmbeddingSet.objects.filter(project=project, ready_at__isnull=False).order_by("pk").first()


def fingerprint(es: EmbeddingSet) -> dict[str, Any]:
    return {"set": es.pk, "count": es.count, "deletions": es.deletions,
            "ready_at": es.ready_at.isoformat() if es.ready_at else None}


def _keys(es: EmbeddingSet) -> tuple[str, str]:
    prefix = storage_prefix(es)
    return f"{prefix}/{MAP_FILE}", f"{prefix}/{PENDING_FILE}"


def cached_map(es: EmbeddingSet) -> dict[str, Any] | None:
    """The stored map when it was computed from the set as it is now."""
    key, _ = _keys(es)
    try:
        data = json.loads(get_storage().read_bytes(key))
    except (StorageError, ValueError):
        return None
    return data if data.get("fingerprint") == fingerprint(es) else None


def is_pending(es: EmbeddingSet) -> bool:
    """A map job was started less than PENDING_SECONDS ago (the marker holds its start time)."""
    _, pending = _keys(es)
    try:
        started = float(get_storage().read_bytes(pending))
    except (StorageError, ValueError):
        return False
    return timezone.now().timestamp() - started < PENDING_SECONDS


def _clear_pending(key: str) -> None:
    try:
        get_storage().delete(key)
    except StorageError:
        pass  # it expires after PENDING_SECONDS anyway


def request_map(project: Project) -> str:
    """Start the map job unless a fresh map exists or one is computing: 'ready' | 'pending'."""
    es = map_set(project)
    if es is None:
        raise MapUnavailable("the project has no ready embedding set: compute embeddings first")
    if cached_map(es) is not None:
        return "ready"
    if is_pending(es):
        return "pending"
    _, pending = _keys(es)
    get_storage().put_bytes(str(timezone.now().timestamp()).encode(), pending)
    try:
        enqueue("vigia.embedding_map", [project.pk])
    except BrokerUnavailable:  # no job: no pending marker either, and the caller answers 503
        _clear_pending(pending)
        raise
    return "pending"


def compute_map(project_id: int, seed: int = 0) -> int:
    """The job: lay the stored vectors out (models_zoo.embedding_map.project_map) and cache
    them; returns the number of points."""
    project = Project.objects.get(pk=project_id)
    es = map_set(project)
    if es is None:
        raise MapUnavailable("the project has no ready embedding set")
    key, pending = _keys(es)
    try:
        ids, vectors = load_vectors(es)
        if len(ids) > MAX_POINTS:  # evenly spaced subset: UMAP on more is slow and unreadable
            keep = [int(round(i * (len(ids) - 1) / (MAX_POINTS - 1))) for i in range(MAX_POINTS)]
            ids, vectors = ids[keep], vectors[keep]
        xy = project_map(vectors, seed=seed)
        data = {"fingerprint": fingerprint(es), "seed": seed, "ids": [int(i) for i in ids],
                "method": "PCA 50 + UMAP" if len(ids) >= MIN_UMAP else "PCA (too few points for UMAP)",
                "xy": [[round(float(a), 4), round(float(b), 4)] for a, b in xy]}
        get_storage().put_bytes(json.dumps(data).encode(), key)  # one whole object
    finally:
        _clear_pending(pending)
    return len(ids)


def _gold_labels(project: Project) -> dict[int, str]:
    out = {}
    for g in gold_examples(project):
        names = sorted({s["label"] for s in g.spans}) if g.spans else g.labels
        out[g.example_id] = "+".join(names) if names else "(no label)"
    return out


def _predicted_labels(project: Project) -> tuple[dict[int, str], dict[int, str]]:
    """(example id -> predicted label group, example id -> "label score (threshold t)" text)
    from the current version's stored predictions."""
    version = current_version(project)
    if version is None:
        return {}, {}
    thresholds = version.thresholds or {}
    groups, scores = {}, {}
    for example_id, labels, spans, score in Prediction.objects.filter(model_version=version).values_list(
            "example_id", "labels", "spans", "scores"):
        names = sorted({s.get("label") for s in spans or []}) if spans else labels
        groups[example_id] = "+".join(names) if names else "(no label)"
        scores[example_id] = ", ".join(
            f"{name} {float(v):.2f}" + (f" (threshold {float(thresholds[name]):.2f})" if name in thresholds else "")
            for name, v in (score or {}).items() if isinstance(v, (int, float)))
    return groups, scores


def map_points(project: Project, colour_by: str = "gold") -> dict[str, Any]:
    """The page's points: {"state", "points": [{id, x, y, text, group, colour}], "legend"}."""
    es = map_set(project)
    if es is None:
        return {"state": "no-embeddings", "points": [], "legend": []}
    data = cached_map(es)
    if data is None:
        return {"state": "pending" if is_pending(es) else "missing", "points": [], "legend": []}
    scores: dict[int, str] = {}
    if colour_by == "prediction":
        groups, scores = _predicted_labels(project)
    else:
        groups = _gold_labels(project)
    texts = dict(Example.objects.filter(pk__in=data["ids"]).values_list("pk", "text"))
    names = sorted({g for g in groups.values() if g != "(no label)"})
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    points = []
    for example_id, (x, y) in zip(data["ids"], data["xy"], strict=True):
        if example_id not in texts:
            continue
        group = groups.get(example_id, "(none)")
        points.append({"id": example_id, "x": x, "y": y, "text": texts[example_id][:300], "group": group,
                       "scores": scores.get(example_id, ""), "colour": colours.get(group, NONE_COLOUR)})
    legend = [{"name": n, "color": colours[n]} for n in names] + [{"name": "no label / not predicted", "color": NONE_COLOUR}]
    return {"state": "ready", "points": points, "legend": legend, "method": data.get("method", "")}
