"""embedding_head in the live loop: a warm retrain encodes nothing (training nor the stop-set
prediction after it), and a run reports its real phases (issue 13)."""
from __future__ import annotations

import pytest

from annotator.services import embeddings as E
from models_zoo.backends import embedding_head as H
from models_zoo.models import Prediction, RunState, TrainingRun
from models_zoo.services.learning_curve import stop_set_ids
from models_zoo.services.training import start_training_run
from models_zoo.services.training_worker import run_training
from tests.models_zoo.services.helpers import add_example, annotate


@pytest.fixture(scope="module")
def tiny_encoder() -> str:
    from tests.models_zoo.tiny_hf import tiny_bert_dir

    return str(tiny_bert_dir())


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Texts embedding_head sends to the (real) encoder, per call."""
    calls: list[int] = []
    real = H.encode_sentences

    def counting(name, texts, *args, **kwargs):
        calls.append(len(texts))
        return real(name, texts, *args, **kwargs)

    monkeypatch.setattr(H, "encode_sentences", counting)
    return calls


def train(project, owner, encoder) -> TrainingRun:
    run = start_training_run(project, "embedding_head",
                             {"encoder": encoder, "device": "cpu", "seed": 7}, owner, enqueue=False)
    run_training(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    return run


def test_a_warm_retrain_and_its_stop_set_encode_nothing(
    project, owner, artifacts_dir, tiny_encoder, encoded, django_capture_on_commit_callbacks
):
    annotate(project, owner, n=24)
    add_example(project, "an unlabelled example the store also holds")
    train(project, owner, tiny_encoder)
    assert encoded == [24, 25], "cold (no store): the labelled texts, then the whole stop set"
    with django_capture_on_commit_callbacks(execute=False):
        s = E.request_embedding_set(project, tiny_encoder)
    E.embed_inline(s)
    encoded.clear()
    run = train(project, owner, tiny_encoder)
    assert encoded == []
    written = Prediction.objects.filter(model_version__run=run).count()
    assert written == len(stop_set_ids(project.pk)) == 25


def test_a_run_reports_encoding_fitting_and_calibrating(project, owner, artifacts_dir, tiny_encoder,
                                                         monkeypatch: pytest.MonkeyPatch):
    from annotator.services import embeddings  # noqa: F401  (the store is empty: all encoded)
    from models_zoo.backends import _encoders

    monkeypatch.setattr(_encoders, "PROGRESS_BLOCK", 10)
    annotate(project, owner, n=24)
    run = train(project, owner, tiny_encoder)
    log = run.log
    for line in ("encoding 10 of 24 texts", "encoding 20 of 24 texts", "encoding 24 of 24 texts",
                 "fitting the logistic regression head on",
                 "calibrating thresholds by 5-fold cross-validation on 20 training examples",
                 "done: validation log loss"):
        assert line in log, f"{line!r} missing from the run log:\n{log}"
    assert log.index("encoding 24 of 24") < log.index("fitting the") < log.index("calibrating")
    assert run.epoch is None, "embedding_head has no epochs"
    assert run.loss is not None and run.loss > 0
    assert run.progress == 1.0


def test_phase_events_follow_the_run_fraction(tiny_encoder) -> None:
    from tests.models_zoo.tiny_hf import DEFAULT_LABELS, synthetic_items

    events = []
    backend = H.EmbeddingHeadBackend(DEFAULT_LABELS, "multilabel", {"encoder": tiny_encoder, "device": "cpu"})
    backend.fit(synthetic_items(30, "multilabel", DEFAULT_LABELS, seed=1),
                synthetic_items(12, "multilabel", DEFAULT_LABELS, seed=2), progress=events.append)
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    encoding = [e for e in events if e.message.startswith("encoding")]
    assert encoding[-1].message == "encoding 42 of 42 texts"
    assert encoding[-1].fraction == pytest.approx(H.ENCODE_SHARE)
    fitting = next(e for e in events if e.message.startswith("fitting"))
    assert fitting.fraction == pytest.approx(H.ENCODE_SHARE)
    warm = []
    x = backend.encode([i.text for i in synthetic_items(42, "multilabel", DEFAULT_LABELS, seed=1)])
    items = synthetic_items(42, "multilabel", DEFAULT_LABELS, seed=1)
    backend.fit_embeddings(x[:30], items[:30], x[30:], items[30:], progress=warm.append)
    assert warm[0].fraction == 0.0 and warm[1].fraction == pytest.approx(H.FIT_SHARE)


def test_predict_all_reads_the_warm_store_and_gives_the_encoded_predictions(
    project, owner, artifacts_dir, tiny_encoder, encoded, django_capture_on_commit_callbacks
):
    from models_zoo.services import chunked_prediction
    from models_zoo.services.prediction import predict_project

    annotate(project, owner, n=24)
    for i in range(6):
        add_example(project, f"unlabelled example number {i} about the flood")
    version = train(project, owner, tiny_encoder).model_version
    cold = {p.example_id: p.scores for p in Prediction.objects.filter(model_version=version)}
    with django_capture_on_commit_callbacks(execute=False):
        s = E.request_embedding_set(project, tiny_encoder)
    E.embed_inline(s)
    added = add_example(project, "an example imported after the store was built")
    Prediction.objects.filter(model_version=version).delete()
    encoded.clear()
    with django_capture_on_commit_callbacks(execute=False):
        job = chunked_prediction.start_prediction_job(project, version.pk, chunk_size=8)
    for chunk_id in job.chunks.order_by("index").values_list("id", flat=True):
        chunked_prediction.predict_chunk(chunk_id)
    assert encoded == [1], "only the example the store lacks is encoded"
    warm = {p.example_id: p.scores for p in Prediction.objects.filter(model_version=version)}
    assert set(warm) == set(project.examples.values_list("id", flat=True))
    assert added.id in warm and len(cold) >= 24
    for example_id, scores in cold.items():
        assert warm[example_id] == pytest.approx(scores, abs=1e-4)
    Prediction.objects.filter(model_version=version).delete()
    encoded.clear()
    assert predict_project(project.pk, version.pk, batch_size=10) == len(warm)
    assert encoded == [1]
    again = {p.example_id: p.scores for p in Prediction.objects.filter(model_version=version)}
    assert again.keys() == warm.keys()
    for example_id, scores in warm.items():  # other batches: equal to float noise
        assert again[example_id] == pytest.approx(scores, abs=1e-5)
