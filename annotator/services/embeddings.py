"""The embedding store: request, compute (chunk by chunk), load and reuse sentence embeddings.

One EmbeddingSet per (project, encoder). Its examples are split into EmbeddingChunk rows, each
embedded by its own Celery task (`vigia.embed_chunk`), so several workers share one pool; a chunk
writes one shard (see embedding_shards) and the set is ready when every chunk is. Requesting a
set again only adds chunks for examples no chunk covers yet (new imports) and re-sends chunks
that failed or never ran. Readers never see deleted examples: `load_vectors` keeps only ids that
still exist in the project.

The text embedded is the one `embedding_head` trains on (`normalized_text`, else `text`), through
the same encoder function (`models_zoo.backends._encoders.encode_sentences`, through config.hooks), so cached vectors
can stand in for fresh ones in training. An encoder naming a CLIP checkpoint directory embeds the
examples' images too (`encode_rows_for`, issue 23): text-only, image-only and text+image examples
each get one vector in CLIP's shared space.

Shards live in the shared storage (annotator/services/embedding_storage.py): a chunk uploads its
shard before its row says ready, and the row records the shard's name and checksums, so any
host reads what any worker wrote. When a set becomes ready its shards are merged into one
(recorded on the set's `merged`), and the merged chunks' shards are deleted.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from annotator.media import read_media
from annotator.models import Example, Project
from annotator.models_embeddings import EmbeddingChunk, EmbeddingSet, EmbeddingState
from annotator.normalize import normalize
from annotator.services import embedding_shards as shards
from annotator.services.embedding_storage import (
    chunk_name,
    delete_set_objects,
    delete_shards,
    forget_replaced_in_cache,
    keep_only_in_cache,
    open_shard,
    set_prefix,
    shard_record,
    store_shard,
)
from annotator.services.projects import ProjectRuleError
from config import hooks
from config.enqueue import BrokerUnavailable, enqueue, enqueue_many
from config.failures import public_reason
from config.resilience import CONNECTION_ERRORS, reset_connections
from config.storage import ObjectMissing

logger = logging.getLogger(__name__)

DEFAULT_ENCODER = "default"
EMBED_CHUNK_TASK = "vigia.embed_chunk"


class MissingVectors(LookupError):
    """Some requested examples have no stored vector (not embedded yet, or deleted)."""


def check_encoder(encoder: str | None) -> str:
    """The encoder name to use; 400-style error naming `encoder` for an unusable one."""
    if encoder is None or encoder == "":
        return DEFAULT_ENCODER
    if not isinstance(encoder, str) or len(encoder) > 500:
        raise ProjectRuleError("must be a model name or a model directory", field="encoder")
    # models_zoo.model_roots (through config.hooks): a registered name or a model under a root.
    refused = hooks.call("refused_model_name", encoder)
    if refused is not None:
        raise ProjectRuleError(refused, field="encoder")
    return encoder


def storage_prefix(embedding_set: EmbeddingSet) -> str:
    """Where the set's objects live in the shared storage."""
    return set_prefix(embedding_set.project_id, embedding_set.pk)


def _project_example_ids(project_id: int, among: Sequence[int] | None = None) -> np.ndarray:
    """Ids of the project's examples (ascending int64), optionally restricted to `among`.
    One plain query: this runs on every load, over up to millions of rows."""
    with connection.cursor() as cursor:
        table = Example._meta.db_table
        if among is None:
            cursor.execute(f"SELECT id FROM {table} WHERE project_id = %s ORDER BY id", [project_id])
        else:
            wanted = [int(i) for i in among]
            if not wanted:
                return np.zeros(0, dtype=np.int64)
            rows = Example.objects.filter(project_id=project_id, pk__in=wanted).order_by("pk")
            return np.fromiter(rows.values_list("pk", flat=True), dtype=np.int64)
        return np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int64)


# --- requesting and computing --------------------------------------------------------------
def request_embedding_set(project: Project, encoder: str | None = None, *,
                          enqueue: bool = True, raise_refusal: bool = True) -> EmbeddingSet:
    """Get or create the project's set for `encoder` and enqueue (on commit) chunk tasks for
    every example not embedded yet, plus chunks that failed or are still queued. Returns at once.
    `enqueue=False` only records the chunks (the caller runs `embed_inline`). A broker that
    refuses marks the set failed and, unless `raise_refusal` is off (the refresh after an
    import or an edit, whose examples are stored), raises BrokerUnavailable (a 503)."""
    encoder = check_encoder(encoder)
    chunk_size = max(1, int(settings.VIGIA_EMBEDDING_CHUNK_SIZE))
    with transaction.atomic():
        embedding_set, _ = EmbeddingSet.objects.get_or_create(
            project=project, encoder=encoder, defaults={"dtype": settings.VIGIA_EMBEDDING_DTYPE}
        )
        embedding_set = EmbeddingSet.objects.select_for_update().get(pk=embedding_set.pk)
        covered: set[int] = set()
        for ids in embedding_set.chunks.values_list("example_ids", flat=True):
            covered.update(ids)
        new_ids = [int(i) for i in _project_example_ids(project.pk) if int(i) not in covered]
        created = EmbeddingChunk.objects.bulk_create(
            EmbeddingChunk(embedding_set=embedding_set, example_ids=new_ids[i:i + chunk_size])
            for i in range(0, len(new_ids), chunk_size)
        )
        EmbeddingChunk.objects.filter(
            embedding_set=embedding_set, state=EmbeddingState.FAILED
        ).update(state=EmbeddingState.QUEUED, error="")
        to_send = list(
            embedding_set.chunks.filter(state=EmbeddingState.QUEUED).values_list("pk", flat=True)
        )
        if to_send and embedding_set.state in (EmbeddingState.READY, EmbeddingState.FAILED):
            embedding_set.state = EmbeddingState.QUEUED
            embedding_set.error = ""
        _refresh_totals(embedding_set)
        set_id = embedding_set.pk
        if enqueue:
            transaction.on_commit(lambda: _send_chunks(set_id, to_send, raise_refusal))
    logger.info("embedding set %s: %d new chunk(s), %d sent", set_id, len(created), len(to_send))
    return embedding_set


def refresh_embedding_sets(project: Project) -> list[EmbeddingSet]:
    """After an import: bring every existing set of the project up to date (new chunks for the
    new examples). Projects without a set are left alone: nobody asked for vectors."""
    return [request_embedding_set(project, encoder, raise_refusal=False)
            for encoder in project.embedding_sets.values_list("encoder", flat=True)]


def reembed_examples(project: Project, example_ids: Sequence[int]) -> None:
    """After a text edit: embed these examples again in every set (a new chunk; its shard is
    newer, so `load_vectors` serves its rows instead of the old ones once it is ready)."""
    ids = sorted(int(i) for i in example_ids)
    if not ids:
        return
    for embedding_set in project.embedding_sets.all():
        with transaction.atomic():
            locked = EmbeddingSet.objects.select_for_update().get(pk=embedding_set.pk)
            chunk = EmbeddingChunk.objects.create(embedding_set=locked, example_ids=ids)
            _refresh_totals(locked)
            transaction.on_commit(lambda s=locked.pk, c=chunk.pk: _send_chunks(s, [c], False))


def after_examples_changed(project: Project, edited_ids: Sequence[int] = ()) -> None:
    """The hook importers and example edits call after their write: never fails the caller's
    request (the examples are stored; a broken store, or a broker that refused, is visible on
    the set and fixed by requesting it), and a dropped connection is replaced for the rest of
    the request."""
    try:
        if edited_ids:
            reembed_examples(project, edited_ids)
        else:
            refresh_embedding_sets(project)
    except Exception as exc:  # noqa: BLE001 - the examples are stored whatever happens here
        logger.exception("could not update the embedding sets of project %s", project.pk)
        if isinstance(exc, CONNECTION_ERRORS):
            reset_connections()


def _send_chunks(set_id: int, chunk_ids: Sequence[int], raise_refusal: bool = True) -> None:
    """Send one `vigia.embed_chunk` per chunk. A broker that refuses marks the set failed with
    the reason (instead of "queued" for ever; requesting the set again re-sends its queued
    chunks) and, with `raise_refusal`, BrokerUnavailable reaches the caller (a 503)."""
    try:
        enqueue_many(EMBED_CHUNK_TASK, [[chunk_id] for chunk_id in chunk_ids])
    except BrokerUnavailable as exc:
        EmbeddingSet.objects.filter(pk=set_id).update(
            state=EmbeddingState.FAILED, error=f"could not enqueue the embedding tasks: {exc.reason}"
        )
        if raise_refusal:
            raise


def _refresh_totals(embedding_set: EmbeddingSet) -> None:
    """Recompute progress/count/state from the chunks and save (caller holds the row lock)."""
    chunks = embedding_set.chunks
    total = chunks.count()
    ready = chunks.filter(state=EmbeddingState.READY)
    n_ready = ready.count()
    embedding_set.count = ready.aggregate(n=Sum("count"))["n"] or 0
    embedding_set.progress = 1.0 if total == 0 else n_ready / total
    if n_ready == total:
        embedding_set.state = EmbeddingState.READY
        embedding_set.ready_at = timezone.now()
        embedding_set.error = ""
    elif chunks.filter(state=EmbeddingState.FAILED).exists():
        embedding_set.state = EmbeddingState.FAILED
    elif chunks.filter(state__in=[EmbeddingState.RUNNING, EmbeddingState.READY]).exists():
        embedding_set.state = EmbeddingState.RUNNING
    embedding_set.save()


def embed_chunk(chunk_id: int) -> int:
    """Embed one chunk and upload its shard; idempotent (a ready chunk is not embedded again,
    and of two attempts only the first to commit is recorded). Returns the number of vectors
    written. Failures land on the chunk and set."""
    chunk = EmbeddingChunk.objects.select_related("embedding_set").filter(pk=chunk_id).first()
    if chunk is None or chunk.state == EmbeddingState.READY:
        return 0
    embedding_set = chunk.embedding_set
    prefix = storage_prefix(embedding_set)
    EmbeddingChunk.objects.filter(pk=chunk.pk).update(state=EmbeddingState.RUNNING)
    EmbeddingSet.objects.filter(pk=embedding_set.pk, state=EmbeddingState.QUEUED).update(
        state=EmbeddingState.RUNNING
    )
    try:
        rows = list(
            Example.objects.filter(project_id=embedding_set.project_id, pk__in=chunk.example_ids)
            .order_by("pk").values_list("pk", "normalized_text", "text", "image")
        )
        vectors = encode_rows_for(embedding_set.encoder, rows)
        # A fresh name per attempt: an uploaded object is never overwritten under a reader.
        shard = store_shard(prefix, f"{chunk_name(chunk.pk)}-{uuid.uuid4().hex[:8]}",
                            [r[0] for r in rows], vectors, dtype=embedding_set.dtype)
    except Exception as exc:  # every failure must land on the rows the admin sees
        logger.exception("embedding chunk %s failed", chunk_id)
        error = public_reason(exc)  # the log above keeps the traceback
        with transaction.atomic():
            locked = EmbeddingSet.objects.select_for_update().get(pk=embedding_set.pk)
            EmbeddingChunk.objects.filter(pk=chunk.pk).exclude(state=EmbeddingState.READY).update(
                state=EmbeddingState.FAILED, error=error, finished_at=timezone.now()
            )
            locked.error = f"chunk {chunk.pk}: {error}"
            _refresh_totals(locked)
        return 0
    with transaction.atomic():
        locked = EmbeddingSet.objects.select_for_update().get(pk=embedding_set.pk)
        if EmbeddingChunk.objects.filter(pk=chunk.pk, state=EmbeddingState.READY).exists():
            # Another attempt (a redelivered task) recorded its shard first: drop ours.
            transaction.on_commit(lambda: delete_shards(prefix, [shard]), robust=True)
            return 0
        EmbeddingChunk.objects.filter(pk=chunk.pk).update(
            state=EmbeddingState.READY, count=len(rows), error="", finished_at=timezone.now(),
            shard=shard,
        )
        if vectors.shape[1]:
            locked.dim = int(vectors.shape[1])
        _refresh_totals(locked)
        became_ready = locked.state == EmbeddingState.READY
    logger.info("embedding chunk %s: %d vectors stored as %s", chunk.pk, len(rows), shard["name"])
    if became_ready:
        try:
            merge_ready_chunks(locked)
        except Exception:  # the chunk shards still serve; merging is only faster reads
            logger.exception("merging the shards of embedding set %s failed", locked.pk)
        _rescore_query_queue(locked.project_id)
    return len(rows)


def _rescore_query_queue(project_id: int) -> None:
    """The `query` queue (issue 18) ranks by the stored vectors: score it once they are ready."""
    if not Project.objects.filter(pk=project_id, queue_strategy="query").exists():
        return

    try:
        enqueue("vigia.rescore_queue", [project_id])
    except BrokerUnavailable:  # the next settings change or promotion rescores it
        logger.warning("could not queue the rescore of project %s's query queue", project_id)


def encode_sentences_for(encoder: str, texts: Sequence[str]) -> np.ndarray:
    """The store's one encoding call (embedding_head's code path, unit-length rows), made by
    models_zoo through config.hooks (`encode_texts`)."""
    return hooks.call("encode_texts", encoder, texts)


def encode_rows_for(encoder: str, rows: Sequence[tuple[int, str, str, str]]) -> np.ndarray:
    """Vectors of examples given as (pk, normalized_text, text, image name) rows. A text
    encoder embeds the texts; an encoder that embeds images too (a CLIP checkpoint, issue 23:
    models_zoo/backends/clip_embed.py) gets each stored image as well, so image-only examples
    have a vector and an image+text one combines both."""
    texts = [normalized or text for _pk, normalized, text, _image in rows]
    if not hooks.call("encodes_images", encoder, default=False):
        return encode_sentences_for(encoder, texts)
    images = [read_media(image) if image else None for _pk, _n, _t, image in rows]
    return hooks.call("encode_items", encoder, texts, images)


def embed_inline(embedding_set: EmbeddingSet) -> EmbeddingSet:
    """Embed every queued chunk of the set in this process (CLI --inline, tests)."""
    for chunk_id in embedding_set.chunks.exclude(state=EmbeddingState.READY).values_list("pk", flat=True):
        embed_chunk(chunk_id)
    embedding_set.refresh_from_db()
    return embedding_set


# --- reading --------------------------------------------------------------------------------
def ready_embedding_set(project: Project, encoder: str | None = None) -> EmbeddingSet | None:
    """The project's usable set for `encoder`: every chunk was ready at least once (a set that
    is adding the vectors of a new import stays usable; those examples join as chunks finish)."""
    encoder = encoder or DEFAULT_ENCODER
    return (
        EmbeddingSet.objects.filter(project=project, encoder=encoder)
        .filter(Q(state=EmbeddingState.READY) | Q(ready_at__isnull=False))
        .first()
    )


def _deletions(embedding_set: EmbeddingSet) -> int:
    return EmbeddingSet.objects.filter(pk=embedding_set.pk).values_list("deletions", flat=True).first() or 0


def _ready_shards(set_id: int) -> list[tuple[int, dict[str, Any]]]:
    """(chunk id, shard record) of the set's ready chunks, oldest first."""
    rows = (EmbeddingChunk.objects.filter(embedding_set_id=set_id, state=EmbeddingState.READY)
            .order_by("pk").values_list("pk", "shard"))
    return [(pk, shard_record(pk, shard)) for pk, shard in rows]


def merge_ready_chunks(embedding_set: EmbeddingSet) -> int:
    """Merge the set's shards (its merged shard and the ready chunks not in it yet) into one
    (done when a set becomes ready), so a read maps one file instead of concatenating hundreds;
    the merged chunks' shards are then deleted, so the store holds each vector once. Readers of
    the previous state that find a shard gone read the set again. Returns the rows merged."""
    prefix = storage_prefix(embedding_set)
    merged = EmbeddingSet.objects.values_list("merged", flat=True).get(pk=embedding_set.pk) or {}
    in_merged = set(merged.get("chunks", []))
    pending = [(pk, record) for pk, record in _ready_shards(embedding_set.pk) if pk not in in_merged]
    sources = ([merged] if merged else []) + [record for _pk, record in pending]
    if not pending or len(sources) < 2:
        return 0
    # Read the counter before the live ids: a deletion in between shows as a newer count.
    deletions = _deletions(embedding_set)
    live = _project_example_ids(embedding_set.project_id)
    try:
        ids, vectors = shards.gather([open_shard(prefix, r) for r in sources], keep=live)
    except ObjectMissing:  # another merge replaced these shards meanwhile: it covers them
        return 0
    new = store_shard(prefix, f"merged-{uuid.uuid4().hex[:12]}", ids, vectors,
                      dtype=embedding_set.dtype, normalise=False)
    new.update(chunks=sorted(in_merged | {pk for pk, _r in pending}), deletions=deletions)
    with transaction.atomic():
        locked = EmbeddingSet.objects.select_for_update().get(pk=embedding_set.pk)
        if (locked.merged or {}).get("name") != merged.get("name"):  # lost a race: keep theirs
            transaction.on_commit(lambda: delete_shards(prefix, [new]), robust=True)
            return 0
        EmbeddingSet.objects.filter(pk=locked.pk).update(merged=new)
        replaced = sources
        transaction.on_commit(lambda: delete_shards(prefix, replaced), robust=True)
    keep_only_in_cache(prefix, [new])
    return len(ids)


def _stored(embedding_set: EmbeddingSet, among: Sequence[int] | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """(ids ascending, vectors) of the live examples with a stored vector (only `among`)."""
    prefix = storage_prefix(embedding_set)
    for attempt in range(3):
        merged, deletions, dim = EmbeddingSet.objects.values_list(
            "merged", "deletions", "dim").get(pk=embedding_set.pk)
        merged = merged or {}
        in_merged = set(merged.get("chunks", []))
        records = ([merged] if merged else []) + [
            record for pk, record in _ready_shards(embedding_set.pk) if pk not in in_merged]
        if among is None and merged and merged.get("deletions") == deletions:
            live = None  # nothing deleted since the merge filtered out the deleted examples
        else:
            live = _project_example_ids(embedding_set.project_id, among)
        try:
            opened = [open_shard(prefix, r) for r in records]
        except FileNotFoundError:  # merged away between reading the rows and the files
            if attempt == 2:
                raise
            continue
        forget_replaced_in_cache(embedding_set.pk, prefix, merged.get("name"), records)
        return shards.gather(opened, keep=live, dim=dim or embedding_set.dim)
    raise AssertionError("unreachable")


def load_vectors(embedding_set: EmbeddingSet, example_ids: Sequence[int] | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(ids int64 (N,), vectors float32 (N, d), unit-length rows) from the set's ready shards
    (memory-mapped; the arrays may be the read-only map itself: copy before writing into
    them). Only examples that still exist. `example_ids=None`: every stored example in
    ascending id order; otherwise exactly those, in that order (MissingVectors for ids that
    have no vector)."""
    if example_ids is None:
        return _stored(embedding_set)
    wanted = [int(i) for i in example_ids]
    ids, vectors = _stored(embedding_set, wanted)
    try:
        rows = shards.select(ids, vectors, wanted)
    except KeyError as exc:
        raise MissingVectors(exc.args[0]) from None
    return np.asarray(wanted, dtype=np.int64), rows


def encode_texts(project: Project, texts: list[str], encoder: str | None = None) -> np.ndarray:
    """Embed free texts (queries) as the store embeds examples: the project's normalisation,
    the same encoder function, unit-length float32 rows."""
    encoder = check_encoder(encoder)
    clean = [normalize(t, project.normalization) or t for t in texts]
    return encode_sentences_for(encoder, clean)


def cached_or_encoded(project: Project, encoder: str, example_ids: Sequence[int],
                      texts: Sequence[str], encode: Callable[[list[str]], np.ndarray]
                      ) -> tuple[np.ndarray, int]:
    """Vectors for `example_ids` (rows aligned), from the store where it has them and from
    `encode(texts)` for the rest. Returns (vectors, how many came from the store)."""
    embedding_set = ready_embedding_set(project, encoder)
    n = len(example_ids)
    if embedding_set is None or n == 0:
        return encode(list(texts)), 0
    wanted = np.asarray(example_ids, dtype=np.int64)
    ids, vectors = _stored(embedding_set, [int(i) for i in wanted])
    pos = np.minimum(np.searchsorted(ids, wanted), max(len(ids) - 1, 0))
    have = (ids[pos] == wanted) if len(ids) else np.zeros(n, dtype=bool)
    if not have.any():
        return encode(list(texts)), 0
    out = np.empty((n, vectors.shape[1]), dtype=np.float32)
    out[have] = vectors[pos[have]]
    if not have.all():
        missing = np.flatnonzero(~have)
        out[missing] = encode([texts[i] for i in missing])
    return out, int(have.sum())


def delete_set_files(embedding_set: EmbeddingSet) -> None:
    """Delete the set's stored objects (its shards and cached map)."""
    delete_set_objects(embedding_set.project_id, embedding_set.pk)
