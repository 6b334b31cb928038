"""embedding_head training on a warm embedding store: stored vectors, no re-encoding."""
from __future__ import annotations

import numpy as np
import pytest

from annotator.models import Annotation
from annotator.services import embeddings as E
from models_zoo.artifacts import load_backend
from models_zoo.models import RunState
from models_zoo.services.artifact_storage import local_artifact
from models_zoo.services.training import start_training_run
from models_zoo.services.training_worker import run_training
from tests.models_zoo.services.helpers import add_example, annotate


@pytest.fixture(scope="module")
def tiny_encoder() -> str:
    from tests.models_zoo.tiny_hf import tiny_bert_dir

    return str(tiny_bert_dir())


def train(project, owner, encoder):
    run = start_training_run(project, "embedding_head",
                             {"encoder": encoder, "device": "cpu", "seed": 7}, owner, enqueue=False)
    version = run_training(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    return run, version


def test_a_warm_store_trains_without_encoding_and_gives_the_cold_model(
    project, owner, artifacts_dir, tiny_encoder, django_capture_on_commit_callbacks
):
    examples = annotate(project, owner, n=24)
    add_example(project, "an unlabelled example the store also holds")
    cold_run, cold = train(project, owner, tiny_encoder)
    assert "embeddings: 0 of 24 from the embedding store, 24 encoded" in cold_run.log

    with django_capture_on_commit_callbacks(execute=False):
        s = E.request_embedding_set(project, tiny_encoder)
    E.embed_inline(s)
    warm_run, warm = train(project, owner, tiny_encoder)
    assert "embeddings: 24 of 24 from the embedding store, 0 encoded" in warm_run.log
    assert warm.metrics["f1_macro"] == pytest.approx(cold.metrics["f1_macro"], abs=1e-6)
    a, b = (load_backend(local_artifact(v.artifact_dir, v.artifact_checksum)) for v in (cold, warm))
    # The store encodes in other batches (other padding lengths, other BLAS blocking) than the cold
    # run, so vectors agree to float32 noise, not bit for bit; the fitted weights follow within 1e-3
    # (CI's 2-core host measured a 1.5e-4 spread where this machine measured none).
    np.testing.assert_allclose(a._coef, b._coef, atol=1e-3)

    # An example added since (not in the store yet) is encoded; the rest come from the store.
    for i, labels in enumerate((["HS"], [], ["TR", "AG"], [])):
        example = add_example(project, f"a tweet added after the store was computed {i}")
        Annotation.objects.create(example=example, user=owner, labels=labels, source="human")
    assert len(examples) == 24
    run, _ = train(project, owner, tiny_encoder)
    assert "embeddings: 24 of 28 from the embedding store, 4 encoded" in run.log


def test_a_store_for_another_encoder_is_not_used(project, owner, artifacts_dir, tiny_encoder, tmp_path,
                                                 django_capture_on_commit_callbacks):
    annotate(project, owner, n=12)
    with django_capture_on_commit_callbacks(execute=False):
        s = E.request_embedding_set(project, tiny_encoder)
    E.embed_inline(s)
    # Same model, another name: a different encoder as far as the store knows.
    other = tmp_path / "copy"
    import shutil

    shutil.copytree(tiny_encoder, other)
    run, _ = train(project, owner, str(other))
    assert "embeddings: 0 of 12 from the embedding store, 12 encoded" in run.log
