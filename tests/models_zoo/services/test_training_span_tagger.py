"""The training service on a span project with the real span_tagger on a tiny encoder."""
from __future__ import annotations

from annotator.models import Annotation
from models_zoo.artifacts import load_backend
from models_zoo.backends.base import Item
from models_zoo.models import RunState
from models_zoo.services.artifact_storage import local_artifact
from models_zoo.services.training import start_training_run
from models_zoo.services.training_worker import run_training
from tests.conftest import make_project
from tests.models_zoo.services.helpers import add_example
from tests.models_zoo.tiny_hf import build_tiny_bert
from tests.models_zoo.tiny_span_tagger import TEMPLATES, make_items, tiny_config


def test_a_span_project_trains_span_tagger_on_raw_text_offsets(owner, artifacts_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    project = make_project(owner, "spans", labels=("LOC", "PER"))
    items = make_items(30, seed=1)
    seen = set()
    for item in items:
        if item.text in seen:
            continue
        seen.add(item.text)
        example = add_example(project, item.text)
        Annotation.objects.create(example=example, user=owner, spans=item.spans)
    encoder = build_tiny_bert(tmp_path / "tiny-bert", [i.text for i in items] + TEMPLATES)
    run = start_training_run(project, "span_tagger", tiny_config(encoder, epochs=2, patience=2), owner)
    version = run_training(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    assert version.data_snapshot["text_field"] == "text"
    assert set(version.data_snapshot["counts"]["per_label"]) == {"LOC", "PER"}
    backend = load_backend(local_artifact(version.artifact_dir, version.artifact_checksum))
    [prediction] = backend.predict([Item(text="flooding in Paris tonight , stay safe")])
    assert all({"start", "end", "label"} <= set(span) for span in prediction.spans)
