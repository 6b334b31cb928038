"""The ONNX Runtime encoder engine: the same vectors as sentence-transformers (cosine >= 0.9999),
one cached export per checkpoint (concurrent exporters do not clash), length-bucketed batches in
input order, and a logged fallback to torch for encoders it cannot reproduce."""
from __future__ import annotations

import logging
import random
import threading
from pathlib import Path

import numpy as np
import pytest

from models_zoo.backends import _encoders as E
from models_zoo.backends import _onnx_encoder as O
from tests.models_zoo.tiny_hf import build_tiny_bert, corpus_sentences, tiny_bert_dir

TEXTS = [
    "  RT @user: flood in the city!! #help http://t.co/x  ",
    "ok",
    "",
    "fire " * 200,  # longer than max_seq_length: truncated like sentence-transformers does
    "people think about this city news today",
    *corpus_sentences()[:40],
]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIGIA_ENCODER_CACHE_DIR", str(tmp_path / "encoders"))
    E.clear_cache()
    yield tmp_path / "encoders"
    E.clear_cache()


def test_onnx_vectors_equal_torch_on_tiny_bert(cache: Path) -> None:
    name = str(tiny_bert_dir())
    fast = E.encode_sentences(name, TEXTS, batch_size=8, engine="onnx")
    ref = E.encode_sentences(name, TEXTS, batch_size=8, engine="torch")
    assert E.engine_fallback_reason(name) is None
    assert fast.shape == ref.shape == (len(TEXTS), 64)
    assert cosines(fast, ref).min() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    raw_fast = E.encode_sentences(name, TEXTS[:6], normalize=False, engine="onnx")
    raw_ref = E.encode_sentences(name, TEXTS[:6], normalize=False, engine="torch")
    np.testing.assert_allclose(raw_fast, raw_ref, rtol=1e-3, atol=1e-4)


def test_shuffled_batch_encodes_as_one_at_a_time(cache: Path) -> None:
    name = str(tiny_bert_dir())
    order = list(range(len(TEXTS)))
    random.Random(3).shuffle(order)
    shuffled = [TEXTS[i] for i in order]
    batched = E.encode_sentences(name, shuffled, batch_size=4, engine="onnx")
    single = np.concatenate([E.encode_sentences(name, [t], engine="onnx") for t in shuffled])
    assert cosines(batched, single).min() >= 0.99999
    # Unbucketed batches (input order) give the same vectors too.
    encoder = E._onnx_or_none(name, "onnx")
    np.testing.assert_allclose(encoder.encode(shuffled, batch_size=4, bucket=False), batched, atol=1e-5)


def test_progress_reports_every_block(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(E, "PROGRESS_BLOCK", 16)
    seen: list[tuple[int, int]] = []
    vectors = E.encode_sentences(str(tiny_bert_dir()), TEXTS, engine="onnx",
                                 progress=lambda done, total: seen.append((done, total)))
    n = len(TEXTS)
    assert seen == [(16, n), (32, n), (n, n)]
    assert vectors.shape == (n, 64)


def test_export_is_cached_once_per_checkpoint(cache: Path, tmp_path: Path) -> None:
    model_dir = build_tiny_bert(tmp_path / "bert-a")
    name = str(model_dir)
    E.encode_sentences(name, ["warm up"], engine="onnx")
    exports = [p for p in cache.iterdir() if not p.name.startswith(".")]
    assert len(exports) == 1 and (exports[0] / O.ONNX_FILE).is_file()
    stamp = (exports[0] / O.ONNX_FILE).stat().st_mtime_ns
    E.clear_cache()
    E.encode_sentences(name, ["again"], engine="onnx")
    assert (exports[0] / O.ONNX_FILE).stat().st_mtime_ns == stamp, "exported twice"
    # A changed checkpoint (other weights) is a different key: a second export.
    build_tiny_bert(model_dir, seed=1)
    E.clear_cache()
    E.encode_sentences(name, ["changed"], engine="onnx")
    assert len([p for p in cache.iterdir() if not p.name.startswith(".")]) == 2


def test_concurrent_exports_do_not_clash(cache: Path, tmp_path: Path) -> None:
    model_dir = build_tiny_bert(tmp_path / "bert-b")
    loads: list[int] = []

    def load_model():
        loads.append(1)
        return E.load_sentence_encoder(str(model_dir), "cpu")

    results: list[Path] = []
    errors: list[BaseException] = []

    def export() -> None:
        try:
            results.append(O.ensure_export(str(model_dir), model_dir, load_model))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=export) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 1 and len(loads) == 1, "one export, the others waited for it"
    assert [p.name for p in cache.iterdir() if p.name.startswith(".tmp-")] == []


def test_unsupported_pooling_falls_back_to_torch_with_a_reason(cache: Path, tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    from sentence_transformers import SentenceTransformer, models

    source = tiny_bert_dir()
    word = models.Transformer(str(source), max_seq_length=64)
    pooling = models.Pooling(word.get_embedding_dimension(), pooling_mode="cls")
    target = tmp_path / "cls-bert"
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(target))
    with caplog.at_level(logging.WARNING, logger="models_zoo.backends._encoders"):
        fast = E.encode_sentences(str(target), TEXTS[:5], engine="onnx")
    reason = E.engine_fallback_reason(str(target))
    assert reason is not None and "pooling" in reason
    assert "ONNX engine unavailable" in caplog.text and "using torch" in caplog.text
    np.testing.assert_allclose(fast, E.encode_sentences(str(target), TEXTS[:5], engine="torch"), atol=1e-6)


def test_engine_setting_is_checked(monkeypatch: pytest.MonkeyPatch, settings) -> None:
    settings.VIGIA_ENCODER_ENGINE = "tensorrt"
    with pytest.raises(ValueError, match="VIGIA_ENCODER_ENGINE must be one of torch, onnx, onnx-int8"):
        E.configured_engine()
    settings.VIGIA_ENCODER_ENGINE = "Torch"
    assert E.configured_engine() == "torch"
    with pytest.raises(ValueError, match="engine must be one of"):
        E.encode_sentences("default", ["x"], engine="tpu")


def test_int8_is_close_but_not_the_default(cache: Path) -> None:
    name = str(tiny_bert_dir())
    assert E.configured_engine() == "onnx"
    quant = E.encode_sentences(name, TEXTS, engine="onnx-int8")
    ref = E.encode_sentences(name, TEXTS, engine="torch")
    assert E.engine_fallback_reason(name, "onnx-int8") is None
    assert any(p.name == O.INT8_FILE for p in cache.rglob("*.onnx"))
    assert cosines(quant, ref).min() > 0.9


@pytest.mark.slow
def test_onnx_vectors_equal_torch_on_packaged_minilm(cache: Path) -> None:
    import bench._data as data
    from bench._data import read_hateval
    from tests.conftest import SAMPLE_DATASETS, full_datasets_path

    root = full_datasets_path()
    data.DATASETS = root if (root / "hateval2019").is_dir() else SAMPLE_DATASETS
    texts = [item.text for item in read_hateval("dev")[:500]] + TEXTS
    fast = E.encode_sentences("default", texts, engine="onnx")
    assert E.engine_fallback_reason("default") is None
    ref = E.encode_sentences("default", texts, engine="torch")
    assert fast.shape == ref.shape == (len(texts), 384)
    assert cosines(fast, ref).min() >= 0.9999


def test_the_checkpoint_is_rehashed_at_most_every_ttl(cache: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    model_dir = build_tiny_bert(tmp_path / "bert-ttl")
    clock = [1000.0]
    monkeypatch.setattr(O.time, "monotonic", lambda: clock[0])
    first = O.checkpoint_digest(model_dir)
    build_tiny_bert(model_dir, seed=1)  # replaced in place
    clock[0] += O.STAMP_TTL_S - 1
    assert O.checkpoint_digest(model_dir) == first, "within the TTL the walk is not redone"
    clock[0] += 2
    changed = O.checkpoint_digest(model_dir)
    assert changed != first
    clock[0] += O.STAMP_TTL_S + 1
    assert O.checkpoint_digest(model_dir) == changed
