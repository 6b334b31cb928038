"""Issue 20: a train config is checked on submit against the backend's pydantic bounds and the
model roots: a 400 naming the field before any run exists, never a run that fails later."""
from __future__ import annotations

import json

import pytest

from models_zoo.models import TrainingRun
from tests.api.factories import annotate, make_example
from tests.conftest import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def trainable(owner):
    project = make_project(owner, "binary", ("on-topic",))
    for i in range(24):
        example = make_example(project, f"tweet {i} on the road", meta={"event": "ab"[i % 3 % 2]})
        annotate(example, owner, ["on-topic"] if i % 2 else [])
    return project


@pytest.mark.parametrize(("config", "field"), [
    ({"seed": -1}, "config.seed"),
    ({"seed": 2**32}, "config.seed"),
    ({"seed": 2**63}, "config.seed"),
    ({"C": "nan"}, "config.C"),
    ({"C": "inf"}, "config.C"),
    ({"max_iter": 10**9}, "config.max_iter"),
    ({"validation_split": {"kind": "random", "fraction": "nan"}}, "config.validation_split.fraction"),
])
def test_out_of_bounds_configs_are_400s_before_a_run_exists(owner_api, trainable, config, field):
    response = owner_api.post(f"/api/v1/projects/{trainable.pk}/train",
                              json.dumps({"backend": "embedding_head", "config": config}),
                              content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    named = {e["field"] for e in body.get("errors", [])} | set(body)
    assert field in named, body
    assert not TrainingRun.objects.filter(project=trainable).exists()


def test_an_encoder_outside_the_model_roots_is_refused_without_saying_whether_it_exists(
    owner_api, trainable, tmp_path, monkeypatch
):
    monkeypatch.setenv("VIGIA_MODEL_DIRS", str(tmp_path / "models"))
    (tmp_path / "models").mkdir()
    (tmp_path / "elsewhere").mkdir()
    answers = []
    for encoder in (str(tmp_path / "elsewhere"), str(tmp_path / "no-such-dir")):
        response = owner_api.post(f"/api/v1/projects/{trainable.pk}/train",
                                  {"backend": "embedding_head", "config": {"encoder": encoder}}, format="json")
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert errors[0]["field"] == "config.encoder"
        answers.append(errors[0]["message"].replace(encoder, "X"))
    assert answers[0] == answers[1] and "exist" not in answers[0]
    assert not TrainingRun.objects.filter(project=trainable).exists()


def test_the_embedding_store_and_mining_refuse_the_same_way(owner_api, trainable, tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIA_MODEL_DIRS", "")
    for url, body in ((f"/api/v1/projects/{trainable.pk}/embeddings", {"encoder": "/etc"}),
                      (f"/api/v1/projects/{trainable.pk}/mining", {"label": "on-topic", "encoder": "/etc"}),
                      (f"/api/v1/projects/{trainable.pk}/negatives-experiments",
                       {"label": "on-topic", "encoder": "/etc"})):
        response = owner_api.post(url, body, format="json")
        assert response.status_code == 400, (url, response.content[:300])
        text = json.dumps(response.json())
        assert "encoder" in text and "exist" not in text


def test_an_encoder_name_too_long_for_the_file_system_is_refused_not_a_500(owner_api, trainable):
    """Found by the long schema fuzz: a 300-character name under a model root raised
    ENAMETOOLONG from the file system check."""
    response = owner_api.post(f"/api/v1/projects/{trainable.pk}/embeddings",
                              {"encoder": "x" * 300}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert "encoder" in response.json()
