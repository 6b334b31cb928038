"""Image uploads tied to the transaction that writes the rows naming them.

Every path that puts an example image in the shared store (a ZIP or JSONL import through
`staging.ImageStager`, the REST `POST`/`PATCH` of one example, `Example.image.save()` inside a
block) uploads inside `atomic_uploads()`:

    with atomic_uploads() as uploads:
        uploads.put_bytes(data, key)          # or put_file(path, key, move=True)
        Example.objects.create(..., image=key)

The upload has to come before COMMIT (a committed row must never name a missing object), so a
transaction that does not commit would leave the object behind with no row pointing at it. The
block records the keys it uploads and deletes them when it exits with an exception: an error in
the body, and also a failing COMMIT (a deferred constraint, a lost connection), which Django's
`atomic` raises on exit.

Nesting: an inner `atomic_uploads()` block is a savepoint; when it fails its own uploads are
deleted, when it succeeds its keys pass to the enclosing `atomic_uploads()` block, which deletes
them if the transaction as a whole does not commit. Inside a transaction opened by plain
`transaction.atomic()` only the block's own failure is covered (nobody is told when that outer
transaction rolls back): open the transaction with `atomic_uploads()` instead.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import transaction

from config.storage import get_storage

logger = logging.getLogger(__name__)

_active = threading.local()  # per thread, as Django's connections are: {alias: [ledgers]}


class TransactionUploads:
    """The objects uploaded within one `atomic_uploads()` block."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def put_bytes(self, data: bytes, key: str) -> None:
        self.keys.append(key)  # first: a write that fails half-way is removed too
        get_storage().put_bytes(data, key)

    def put_file(self, path: str | Path, key: str, *, move: bool = False) -> None:
        self.keys.append(key)
        get_storage().put_file(path, key, move=move)

    def remove(self) -> None:
        """Delete every object uploaded here (the rows naming them were not committed)."""
        storage = get_storage()
        for key in self.keys:
            try:
                storage.delete(key)
            except Exception:
                logger.exception("removing image %s of a transaction that did not commit", key)
        self.keys = []


def _stack(using: str | None) -> list[TransactionUploads]:
    stacks = getattr(_active, "stacks", None)
    if stacks is None:
        stacks = _active.stacks = {}
    return stacks.setdefault(transaction.get_connection(using).alias, [])


def current_uploads(using: str | None = None) -> TransactionUploads | None:
    """The innermost open `atomic_uploads()` block of this thread, if any."""
    stack = _stack(using)
    return stack[-1] if stack else None


@contextmanager
def atomic_uploads(using: str | None = None) -> Iterator[TransactionUploads]:
    """`transaction.atomic()` whose uploads (through the yielded ledger) are deleted when the
    block does not commit, the COMMIT itself included."""
    stack = _stack(using)
    uploads = TransactionUploads()
    stack.append(uploads)
    try:
        try:
            with transaction.atomic(using=using):
                yield uploads
        finally:
            stack.pop()
    except BaseException:
        uploads.remove()
        raise
    if stack:  # nested: the enclosing block answers for these objects until it commits
        stack[-1].keys.extend(uploads.keys)
