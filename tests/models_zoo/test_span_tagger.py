"""span_tagger: learns spans on a tiny model, exact CRF marginals, progress and cancellation,
clear errors on bad input; a slow test on real WNUT-17 with the packaged MiniLM."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from models_zoo.artifacts import load_backend
from models_zoo.backends.base import BackendError, Item, ProgressEvent, TrainingCancelled
from models_zoo.registry import get_backend
from tests.models_zoo.tiny_hf import build_tiny_bert
from tests.models_zoo.tiny_span_tagger import TEMPLATES, make_case, make_items, tiny_config


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sentences = [i.text for i in make_items(60, seed=1)] + TEMPLATES
    return build_tiny_bert(tmp_path_factory.mktemp("enc") / "tiny-bert", sentences)


def _backend(encoder_dir: Path, **overrides):
    from models_zoo.backends.span_tagger import SpanTaggerBackend

    return SpanTaggerBackend(["LOC", "PER"], "spans", tiny_config(encoder_dir, **overrides))


def test_the_registry_resolves_span_tagger() -> None:
    from models_zoo.backends.span_tagger import SpanTaggerBackend

    assert get_backend("span_tagger") is SpanTaggerBackend


def test_it_learns_entities_and_returns_character_spans(tmp_path: Path) -> None:
    backend, train, validation, _ = make_case(tmp_path)
    events: list[ProgressEvent] = []
    report = backend.fit(train, validation, progress=events.append)

    assert report.metrics["f1_micro"] >= 0.8, report.metrics
    assert set(report.metrics["per_class"]) == {"LOC", "PER"}
    assert report.metrics["f1_macro"] > 0.5
    assert report.thresholds == {}
    # One event per optimiser step, numbered 1..n, against a fixed total.
    assert [e.step for e in events] == list(range(1, len(events) + 1))
    assert events[-1].total_steps >= len(events) and events[0].loss is not None
    # Each epoch records its mean training loss (the version page's loss curve, issue 13):
    # the mean of that epoch's step losses.
    history = report.metrics["history"]
    assert [h["epoch"] for h in history] == list(range(1, len(history) + 1))
    first_epoch = [e.loss for e in events if e.epoch == 1]
    assert abs(history[0]["train_loss"] - sum(first_epoch) / len(first_epoch)) < 1e-6

    item = Item(text="flooding in Quito tonight , stay safe")
    [prediction] = backend.predict([item])
    assert [(s["text"], s["label"]) for s in prediction.spans] == [("Quito", "LOC")]
    span = prediction.spans[0]
    assert item.text[span["start"]:span["end"]] == "Quito" and 0 < span["score"] <= 1
    assert prediction.labels == ["LOC"]
    assert prediction.scores["LOC"] > prediction.scores["PER"]
    # The mean per-word confidence the active-learning queue ranks span examples by: the
    # decoded tag's marginal averaged over the 7 words, each one at least the span's own.
    assert 0 < prediction.extras["confidence"] <= 1


def test_texts_without_words_get_no_spans(tmp_path: Path, encoder_dir: Path) -> None:
    backend = _backend(encoder_dir, epochs=1)
    backend.fit(make_items(8, 1), make_items(4, 2))
    empty, blank = backend.predict([Item(text=""), Item(text=" \n ")])
    assert empty.spans == [] and blank.spans == []
    assert empty.extras["confidence"] == 1.0  # no word to be unsure about
    assert empty.scores == {"LOC": 0.0, "PER": 0.0}


def test_crf_marginals_match_brute_force_enumeration(encoder_dir: Path) -> None:
    backend = _backend(encoder_dir, epochs=1)
    backend._build(str(encoder_dir))
    net = backend.net
    torch.manual_seed(0)
    for p in net.crf.parameters():
        torch.nn.init.normal_(p)
    emissions = torch.randn(2, 3, 5)
    mask = torch.tensor([[True, True, True], [True, True, False]])
    marginals = net.marginals(emissions, mask)
    for b in range(2):
        length = int(mask[b].sum())
        expected = torch.zeros(length, 5)
        for path in itertools.product(range(5), repeat=length):
            tags = torch.tensor([list(path) + [0] * (3 - length)])
            log_p = net.crf(emissions[b : b + 1], tags, mask=mask[b : b + 1], reduction="sum")
            for t, tag in enumerate(path):
                expected[t, tag] += log_p.exp()
        torch.testing.assert_close(marginals[b, :length], expected, rtol=1e-4, atol=1e-5)


def test_word_by_word_encoding_aligns_like_the_fast_tokenizer(encoder_dir: Path) -> None:
    """The path for slow tokenizers (BERTweet) gives the same first-subword alignment."""
    from transformers import AutoTokenizer

    from models_zoo.backends._span_net import encode_words
    from models_zoo.backends._spans import tokenize_words

    tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
    texts = ["flooding in Kathmandu tonight , stay safe", "", "Priya says roads to Lima are closed"]
    words = [[w.text for w in tokenize_words(t)] for t in texts]
    fast = encode_words(tokenizer, words, max_length=48, per_word=False)
    slow = encode_words(tokenizer, words, max_length=48, per_word=True)
    assert slow.modelled == fast.modelled
    assert torch.equal(slow.word_index, fast.word_index) and torch.equal(slow.word_mask, fast.word_mask)
    assert torch.equal(slow.encoding["input_ids"], fast.encoding["input_ids"])
    short = encode_words(tokenizer, words, max_length=6, per_word=True)
    assert all(len(kept) <= 4 for kept in short.modelled)  # [CLS] + <=4 words + [SEP]


def test_it_works_without_the_bilstm_and_round_trips(tmp_path: Path, encoder_dir: Path) -> None:
    backend = _backend(encoder_dir, use_lstm=False, epochs=3)
    backend.fit(make_items(24, 1), make_items(8, 2))
    backend.save(tmp_path / "artifact")
    loaded = load_backend(tmp_path / "artifact")
    assert loaded.net.lstm is None
    items = make_items(5, 3)
    assert [p.as_dict() for p in loaded.predict(items)] == [p.as_dict() for p in backend.predict(items)]
    assert (tmp_path / "artifact" / "head.safetensors").is_file()
    assert (tmp_path / "artifact" / "encoder" / "config.json").is_file()


def test_a_cancelling_progress_callback_stops_training(encoder_dir: Path) -> None:
    backend = _backend(encoder_dir)
    seen: list[int] = []

    def cancel_at_three(event: ProgressEvent) -> None:
        seen.append(event.step)
        if event.step == 3:
            raise TrainingCancelled("stopped by the admin")

    with pytest.raises(TrainingCancelled):
        backend.fit(make_items(48, 1), make_items(8, 2), progress=cancel_at_three)
    assert seen == [1, 2, 3]
    assert backend.metrics == {}


def test_it_rejects_span_labels_outside_the_project(encoder_dir: Path) -> None:
    train = make_items(4, 1) + [Item(text="flood in Lima", spans=[{"start": 9, "end": 13, "label": "CITY"}])]
    with pytest.raises(BackendError, match=r"train item 4: span label 'CITY' is not one of"):
        _backend(encoder_dir).fit(train, make_items(2, 2))


def test_it_rejects_malformed_spans_and_empty_splits(encoder_dir: Path) -> None:
    bad = [Item(text="flood in Lima", spans=[{"start": 9, "label": "LOC"}])]
    with pytest.raises(BackendError, match="validation item 0: a span needs start, end and label"):
        _backend(encoder_dir).fit(make_items(4, 1), bad)
    with pytest.raises(BackendError, match="validation split is empty"):
        _backend(encoder_dir).fit(make_items(4, 1), [])
    with pytest.raises(BackendError, match="predict"):
        _backend(encoder_dir).predict([Item(text="x")])


def test_placeholders_feed_urls_and_mentions_as_bertweet_tokens(encoder_dir: Path) -> None:
    from models_zoo.backends._spans import tokenize_words

    backend = _backend(encoder_dir, placeholders=True)
    words = tokenize_words("@maria see https://t.co/x #flood")
    assert backend._encoder_words(words) == ["@USER", "see", "HTTPURL", "#", "flood"]


def test_it_refuses_non_span_task_types() -> None:
    from models_zoo.backends.span_tagger import SpanTaggerBackend

    with pytest.raises(BackendError, match="does not support task type 'multilabel'"):
        SpanTaggerBackend(["LOC"], "multilabel")


@pytest.mark.slow
def test_minilm_span_tagger_beats_a_feature_baseline_on_wnut17(datasets_dir: Path) -> None:
    """Packaged MiniLM + BiLSTM + CRF on a WNUT-17 subsample (the settings of
    bench/quality_spans.py, smaller) beats per-word logistic regression on the same split."""
    from bench.quality_spans import TYPES, entity_scores, gold_tags, read_conll, token_logreg
    from models_zoo.backends._spans import spans_to_bio, tokenize_words
    from models_zoo.backends.span_tagger import SpanTaggerBackend

    train = read_conll(datasets_dir / "wnut17" / "wnut17train.conll")[:700]
    dev = read_conll(datasets_dir / "wnut17" / "emerging.dev.conll")[:300]
    config = {"epochs": 3, "patience": 2, "lr_encoder": 1e-4, "lr_head": 3e-3, "device": "cpu"}
    backend = SpanTaggerBackend(TYPES, "spans", config)
    backend.fit(train[100:], train[:100])
    predicted = [spans_to_bio(tokenize_words(i.text), p.spans) for i, p in zip(dev, backend.predict(dev), strict=True)]
    tagger = entity_scores(gold_tags(dev), predicted)
    baseline = entity_scores(gold_tags(dev), token_logreg(train[100:], dev, seed=13))
    assert tagger["f1"] > 0.25, tagger
    assert tagger["f1"] > baseline["f1"] + 0.1, (tagger, baseline)
