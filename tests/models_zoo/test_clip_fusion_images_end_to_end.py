"""Issue 23: a tiny random CLIP (built in-process, under a model root) trains `clip_fusion` on
items imported from a ZIP (text + image, text-only, image-only), the version is promoted, it
predicts over REST with a base64 image, and predict-all covers the image examples. The training
form lists the checkpoint directory found under the model root."""
from __future__ import annotations

import base64
import io
import random
from pathlib import Path

import pytest

from annotator.importers import import_file
from annotator.models import Example
from annotator.services.projects import create_project
from models_zoo.models import Prediction
from models_zoo.services.prediction import predict_project
from models_zoo.services.training import start_training_run
from models_zoo.services.training_worker import run_training
from models_zoo.services.versions import promote_version
from tests.annotator.images.helpers import make_zip
from tests.conftest import api_client_for
from tests.models_zoo.tiny_clip import build_tiny_clip, square_png
from tests.models_zoo.tiny_clip_fusion import BLUE, CALM_WORDS, RED, SENTENCES, URGENT_WORDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_root(tmp_path, settings, monkeypatch) -> Path:
    root = tmp_path / "models"
    build_tiny_clip(root / "tiny-clip", SENTENCES)
    monkeypatch.delenv("VIGIA_MODEL_DIRS", raising=False)
    settings.VIGIA_MODEL_DIRS = str(root)
    return root


def memes_zip(n: int = 36, seed: int = 5) -> bytes:
    rng = random.Random(seed)
    rows, files = ["text,image,labels"], {}
    for i in range(n):
        red, urgent = rng.random() < 0.5, rng.random() < 0.5
        kind = i % 3  # 0: text + image, 1: text only, 2: image only
        text = f"{rng.choice(URGENT_WORDS if urgent else CALM_WORDS)} {rng.choice(['here', 'there', 'again'])} now {i}"
        labels = [lab for lab, on in (("red", red and kind != 1), ("urgent", urgent and kind != 2)) if on]
        image = ""
        if kind != 1:
            image = f"img/{i}.png"
            files[image] = square_png(RED if red else BLUE, offset=rng.randint(-3, 3), background=(255, 255, 255 - i))
        rows.append(f"{text if kind != 2 else ''},{image},{'|'.join(labels)}")
    return make_zip({"manifest.csv": "\n".join(rows) + "\n", **files})


def test_clip_fusion_trains_on_imported_images_and_predicts_over_rest(owner, model_root):
    project = create_project(creator=owner, name="memes", task_type="multimodal-multilabel", labels=["red", "urgent"])
    result = import_file(project, io.BytesIO(memes_zip()), "zip")
    assert result.imported == 36
    assert Example.objects.filter(project=project).exclude(image="").count() == 24
    assert Example.objects.filter(project=project, text="").count() == 12

    config = {"clip": "tiny-clip", "fusion_dim": 32, "batch_size": 8, "epochs": 2, "patience": 2,
              "lr_encoder": 1e-3, "lr_head": 5e-3, "warmup_ratio": 0.0, "device": "cpu"}
    run = start_training_run(project, "clip_fusion", config, owner, enqueue=False)
    version = run_training(run.pk)
    run.refresh_from_db()
    assert version is not None, run.log
    promote_version(version)

    api = api_client_for(owner)
    image = base64.b64encode(square_png(RED)).decode()
    response = api.post(f"/api/v1/projects/{project.pk}/predict",
                        {"items": [{"text": "fire here now", "image": image}, {"image": image}, {"text": "music"}]},
                        format="json")
    assert response.status_code == 200, response.content
    predictions = response.json()["predictions"]
    assert len(predictions) == 3 and all(set(p["scores"]) == {"red", "urgent"} for p in predictions)

    predict_project(project.pk, version.pk)  # what training or promotion did not predict yet
    assert Prediction.objects.filter(model_version=version).count() == 36
    with_image = Prediction.objects.filter(model_version=version).exclude(example__image="").count()
    assert with_image == 24


def test_the_training_form_lists_checkpoint_directories_under_the_model_roots(owner, model_root, client):
    project = create_project(creator=owner, name="memes", task_type="multimodal-multilabel", labels=["red", "urgent"])
    (model_root / "not-a-model").mkdir()
    client.force_login(owner)
    page = client.get(f"/models/projects/{project.pk}/runs/?backend=clip_fusion").content.decode()
    assert 'id="checkpoints_clip"' in page
    assert "<code>tiny-clip</code> (clip)" in page and "not-a-model" not in page
