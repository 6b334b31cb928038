"""The training service with a real backend: embedding_head on the in-process tiny encoder."""
from __future__ import annotations

import pytest

from models_zoo.artifacts import load_backend
from models_zoo.backends.base import Item
from models_zoo.models import RunState
from models_zoo.services.artifact_storage import local_artifact
from models_zoo.services.training import start_training_run
from models_zoo.services.training_worker import run_training
from tests.models_zoo.services.helpers import annotate


@pytest.fixture
def tiny_encoder() -> str:
    from tests.models_zoo.tiny_hf import tiny_bert_dir

    return str(tiny_bert_dir())


def test_embedding_head_trains_end_to_end_and_its_artifact_predicts(project, owner, artifacts_dir, tiny_encoder, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    annotate(project, owner, n=24)
    run = start_training_run(project, "embedding_head", {"encoder": tiny_encoder, "device": "cpu"}, owner)
    version = run_training(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    assert version is not None and version.backend == "embedding_head"
    assert 0.0 <= version.metrics["f1_macro"] <= 1.0
    assert version.data_snapshot["counts"]["validation"] == 4
    assert "fitting the logistic regression head on 20 examples" in run.log
    backend = load_backend(local_artifact(version.artifact_dir, version.artifact_checksum))
    [prediction] = backend.predict([Item(text="you are a pathetic liar")])
    assert set(prediction.scores) == {"HS", "TR", "AG"}
