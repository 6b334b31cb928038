"""The ONNX Runtime engine for sentence encoders: export once, then encode without torch.

`export_encoder` traces the sentence-transformers model's Hugging Face transformer with
`torch.onnx.export` (the TorchScript exporter: the dynamo one needs onnxscript, which the project
does not ship) and writes, into one directory: `model.onnx` (token embeddings out), the fast
tokenizer (`tokenizer.json`, run by `tokenizers`) and `encoder.json` (max sequence length,
pooling, normalisation). Mean pooling and L2 normalisation, as sentence-transformers' Pooling and
Normalize modules do them, run in numpy; only mean-pooling encoders are exported (others keep the
torch engine, with the reason logged).

The export is cached under `<cache root>/<name>-<sha256 of the checkpoint files>/`, so a changed
checkpoint gets a new export and two encoders never share one. Workers racing to export take a
file lock, and the export is written to a temporary sibling and renamed into place, so a reader
never sees half an export. The cache root and an optional shared store come from `configure`
(the service layer passes them in: this module never imports Django): with a shared store, a
host missing an export first copies the one another host published, and publishes its own.

`OnnxSentenceEncoder.encode` tokenises every text once, sorts the texts by token length into
batches (length bucketing, `_buckets`), pads each batch only to its own longest row, and puts the
vectors back in input order.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from models_zoo.backends._buckets import length_buckets

logger = logging.getLogger(__name__)

# Bump when the export format or what is exported changes: old caches are then ignored.
EXPORT_VERSION = 1
ONNX_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "encoder.json"

_digests: dict[tuple[Any, ...], str] = {}
# Checkpoint directory -> (monotonic time of the last file walk, its digest). Walking and
# stat-ing a checkpoint's files costs 2-3 ms, a fifth of a one-item prediction, so a digest is
# re-checked at most every STAMP_TTL_S seconds: a checkpoint replaced in place is picked up
# within that time (docs/embeddings.md, "Encoder engine").
STAMP_TTL_S = 10.0
_recent: dict[str, tuple[float, str]] = {}
_sessions: dict[tuple[str, bool], OnnxSentenceEncoder] = {}
_lock = threading.Lock()


class ExportError(RuntimeError):
    """The encoder cannot be exported (unsupported modules, exporter failure)."""


class SharedExports(Protocol):
    """Exports shared between hosts (the service layer's storage; see `configure`)."""

    def fetch(self, name: str, target: Path) -> bool:
        """Copy the published export `name` into the empty directory `target`; False when
        none is published. Raises when a published one is damaged."""

    def publish(self, name: str, source: Path) -> None:
        """Publish the finished export in `source` as `name` for the other hosts."""


# () -> (cache root or None, shared exports or None); set by `configure`.
_location: Callable[[], tuple[Path | None, SharedExports | None]] | None = None


def configure(location: Callable[[], tuple[Path | None, SharedExports | None]] | None) -> None:
    """Where exports are cached and whether they are shared, asked at each use (so settings
    changed at run time apply). Vigia's models_zoo app installs it; without it the cache is
    `~/.cache/vigia/encoders` and nothing is shared."""
    global _location
    _location = location


def _configured() -> tuple[Path | None, SharedExports | None]:
    return _location() if _location is not None else (None, None)


def cache_root() -> Path:
    """Where this host keeps exports: `VIGIA_ENCODER_CACHE_DIR` from the environment, else the
    configured root, else `~/.cache/vigia/encoders` (a plain library use)."""
    if os.environ.get("VIGIA_ENCODER_CACHE_DIR"):
        return Path(os.environ["VIGIA_ENCODER_CACHE_DIR"]).expanduser()
    root, _shared = _configured()
    return Path(root) if root is not None else Path.home() / ".cache" / "vigia" / "encoders"


def checkpoint_digest(model_dir: str | Path) -> str:
    """sha256 over the relative paths and contents of the checkpoint's files (hidden files
    and README.md skipped), memoised per process by (path, size, mtime) of each file, whose
    walk is itself redone at most every STAMP_TTL_S seconds."""
    root = Path(model_dir)
    now = time.monotonic()
    with _lock:
        recent = _recent.get(str(root))
    if recent is not None and now - recent[0] < STAMP_TTL_S:
        return recent[1]
    value = _walked_digest(root)
    with _lock:
        _recent[str(root)] = (now, value)
    return value


def _walked_digest(root: Path) -> str:
    files = sorted(p for p in root.rglob("*") if p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(root).parts)
                   and p.name != "README.md")
    stamp = (str(root.resolve()), tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files))
    with _lock:
        cached = _digests.get(stamp)
    if cached:
        return cached
    digest = hashlib.sha256(f"vigia-onnx-export-{EXPORT_VERSION}".encode())
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    value = digest.hexdigest()
    with _lock:
        _digests[stamp] = value
    return value


def export_dir_for(name: str, model_dir: str | Path) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name.strip("/~.")).strip("_")[-60:] or "encoder"
    return cache_root() / f"{slug}-{checkpoint_digest(model_dir)[:20]}"


def _pipeline(model: Any) -> tuple[Any, bool]:
    """(HF transformer module, normalise?) of a sentence-transformers model that this engine
    reproduces exactly: Transformer -> mean Pooling [-> Normalize]. ExportError otherwise."""
    modules = list(model)
    kinds = [type(m).__name__ for m in modules]
    if len(modules) not in (2, 3) or kinds[0] != "Transformer" or kinds[1] != "Pooling" or (
            len(modules) == 3 and kinds[2] != "Normalize"):
        raise ExportError(f"unsupported sentence-transformers modules {kinds}: only "
                          "Transformer -> Pooling(mean) [-> Normalize] is exported")
    pooling = modules[1]
    mode = getattr(pooling, "pooling_mode", None)
    if mode is None:  # older sentence-transformers: boolean flags
        flags = pooling.get_config_dict()
        mode = "mean" if flags.get("pooling_mode_mean_tokens") and sum(
            bool(v) for k, v in flags.items() if k.startswith("pooling_mode_")) == 1 else str(flags)
    if mode != "mean":
        raise ExportError(f"pooling {mode!r} is not exported (only mean pooling)")
    if getattr(modules[0], "do_lower_case", False):
        raise ExportError("do_lower_case encoders are not exported")
    return modules[0].auto_model, len(modules) == 3


def _export_into(model: Any, target: Path) -> None:
    import torch

    transformer, normalize = _pipeline(model)
    tokenizer = model.tokenizer
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ExportError("the encoder has no fast tokenizer (tokenizer.json)")
    sample = tokenizer(["a short one", "a somewhat longer sentence to pad the first one"],
                       padding=True, return_tensors="pt")
    names = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in sample]

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, tensors, strict=True))).last_hidden_state

    wrapper = TokenEmbeddings(transformer).eval()
    axes = {k: {0: "batch", 1: "sequence"} for k in [*names, "token_embeddings"]}
    import warnings

    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        # The sample pads its first row, so the traced graph keeps the attention-mask path.
        torch.onnx.export(wrapper, tuple(sample[k] for k in names), str(target / ONNX_FILE),
                          input_names=names, output_names=["token_embeddings"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    backend.save(str(target / TOKENIZER_FILE))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    meta = {"version": EXPORT_VERSION, "inputs": names, "max_seq_length": int(model.max_seq_length),
            "normalize": normalize, "pad_id": int(pad_id), "pad_token": str(tokenizer.pad_token or ""),
            "dim": int(_dimension(model))}
    (target / META_FILE).write_text(json.dumps(meta, indent=1))


def quantize_int8(directory: Path) -> Path:
    """Dynamic int8 quantisation of the export's weights (onnxruntime.quantization), cached
    next to it; same lock-and-rename discipline."""
    out = directory / INT8_FILE
    if out.is_file():
        return out
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _file_lock(directory.parent / f".{directory.name}.int8.lock"):
        if not out.is_file():
            tmp = directory / f".{uuid.uuid4().hex}.onnx"
            try:
                quantize_dynamic(str(directory / ONNX_FILE), str(tmp), weight_type=QuantType.QInt8)
                os.replace(tmp, out)
            finally:
                tmp.unlink(missing_ok=True)
    return out


class _file_lock:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.path.open("a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def ensure_export(name: str, model_dir: str | Path, load_model: Any) -> Path:
    """The cached export directory of encoder `name` (checkpoint at `model_dir`), exporting it
    first when absent. `load_model()` returns the sentence-transformers model (called only to
    export). Raises ExportError / the exporter's error when it cannot be exported."""
    final = export_dir_for(name, model_dir)
    if (final / META_FILE).is_file():
        return final
    with _file_lock(final.parent / f".{final.name}.lock"):
        if (final / META_FILE).is_file():  # another worker exported it while we waited
            return final
        tmp = final.parent / f".tmp-{final.name}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        _root, shared = _configured()
        try:
            how = "exported"
            if not (shared is not None and _fetched(shared, final.name, tmp)):
                _export_into(load_model(), tmp)
                if shared is not None:
                    try:
                        shared.publish(final.name, tmp)
                    except Exception as exc:  # this host still has it; others export their own
                        logger.warning("could not publish the ONNX export %s: %s", final.name, exc)
            else:
                how = "fetched the published"
            if final.exists():  # a leftover without its meta file: incomplete, replace it
                shutil.rmtree(final)
            os.rename(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    logger.info("%s ONNX export of encoder %r into %s", how, name, final)
    return final


def _fetched(shared: SharedExports, name: str, target: Path) -> bool:
    """The published export copied into `target`; False (target emptied again) when there is
    none or it cannot be read: this host then exports its own."""
    try:
        found = bool(shared.fetch(name, target)) and (target / META_FILE).is_file()
    except Exception as exc:
        logger.warning("could not fetch the published ONNX export %s (%s); exporting it here", name, exc)
        found = False
    if not found:
        for child in target.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    return found


class OnnxSentenceEncoder:
    """Encodes texts with an export made by `ensure_export` (onnxruntime + tokenizers only)."""

    def __init__(self, directory: str | Path, int8: bool = False, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.directory = Path(directory)
        self.meta = json.loads((self.directory / META_FILE).read_text())
        self.tokenizer = Tokenizer.from_file(str(self.directory / TOKENIZER_FILE))
        # As sentence-transformers tokenises: truncate to max_seq_length, no fixed padding.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(int(self.meta["max_seq_length"]))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # ONNX Runtime's pool threads spin after each run by default, taking the cores from the
        # next request's parse, another web thread or a second process on 2 cores; measured
        # no slower without it (one text: p50 11.0-11.9 ms vs 12.5-12.7 ms; 256 texts 1.21 s vs
        # 1.38-1.56 s).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Like torch, honour OMP_NUM_THREADS (workers pinned to one core each scale out).
        threads = threads or _env_threads()
        if threads:
            options.intra_op_num_threads = threads
        model = quantize_int8(self.directory) if int8 else self.directory / ONNX_FILE
        self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self.inputs = list(self.meta["inputs"])
        self.dim = int(self.meta["dim"])

    def tokenize(self, texts: Sequence[str]) -> list[Any]:
        # sentence-transformers strips each text before tokenising.
        return self.tokenizer.encode_batch([str(t).strip() for t in texts])

    def encode(self, texts: Sequence[str], batch_size: int = 32, normalize: bool = True,
               bucket: bool = True) -> np.ndarray:
        """(n, dim) float32 vectors in input order; `bucket=False` batches in input order
        (the bench's comparison)."""
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        encodings = self.tokenize(texts)
        lengths = [len(e.ids) for e in encodings]
        if bucket:
            batches = length_buckets(lengths, batch_size)
        else:
            batches = [np.arange(s, min(n, s + batch_size)) for s in range(0, n, batch_size)]
        pad = int(self.meta["pad_id"])
        for rows in batches:
            width = max(lengths[i] for i in rows)
            ids = np.full((len(rows), width), pad, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            types = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                e = encodings[i]
                ids[r, :lengths[i]] = e.ids
                mask[r, :lengths[i]] = 1
                types[r, :lengths[i]] = e.type_ids
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            tokens = self.session.run(None, {k: feed[k] for k in self.inputs})[0]
            # sentence-transformers' mean pooling: sum of unmasked token vectors / their count.
            weights = mask[..., None].astype(np.float32)
            pooled = (tokens * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            out[rows] = pooled
        if normalize or self.meta.get("normalize"):
            # Normalize module in the pipeline, or normalize_embeddings=True (idempotent).
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out /= np.clip(norms, 1e-12, None)
        return out


def onnx_encoder(name: str, model_dir: str | Path, load_model: Any, int8: bool = False) -> OnnxSentenceEncoder:
    """A cached (per process) OnnxSentenceEncoder for `name`, exporting on first use."""
    directory = ensure_export(name, model_dir, load_model)
    key = (str(directory), int8)
    with _lock:
        encoder = _sessions.get(key)
    if encoder is None:
        encoder = OnnxSentenceEncoder(directory, int8=int8)
        with _lock:
            encoder = _sessions.setdefault(key, encoder)
    return encoder


def clear_sessions() -> None:
    with _lock:
        _sessions.clear()
        _digests.clear()
        _recent.clear()


def _dimension(model: Any) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter() or 0)


def _env_threads() -> int | None:
    try:
        value = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return None
    return value if value > 0 else None
