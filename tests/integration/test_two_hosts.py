"""Past one machine (issue 21): hosts that share only PostgreSQL, Redis and an S3 bucket (moto's
standalone server, over HTTP), each with its own VIGIA_VAR_DIR.

1. Two Celery workers write the shards of one embedding set; a third host reads the whole set.
2. A web host (`manage.py serve --no-worker`) and a worker host: train, promote, predict; embed,
   then similar examples; mine, then proposals. The web host serves what the worker wrote,
   downloaded into its own cache.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from rest_framework.authtoken.models import Token

from annotator.models import Annotation, EmbeddingSet, Example
from annotator.normalize import content_hash, normalize
from annotator.services import embeddings as E
from config.storage import MANIFEST, get_storage
from models_zoo.models import ModelVersion
from tests.integration.hosts import call, start_web, start_worker, stop, wait_until
from tests.models_zoo.tiny_hf import synthetic_items, tiny_bert_dir

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hosts(s3_store, tmp_path):
    """Start hosts on demand; every one is stopped at the end."""
    from config.celery import app

    app.control.purge()
    started = []

    def worker(name: str):
        started.append(start_worker(tmp_path / name / "var", name))
        return started[-1]

    def web():
        proc, base = start_web(tmp_path / "web" / "var")
        started.append(proc)
        return proc, base

    yield worker, web
    for proc in started:
        stop(proc)


def add(project, text: str) -> Example:
    clean = normalize(text, project.normalization)
    return Example.objects.create(project=project, text=text, normalized_text=clean,
                                  content_hash=content_hash(clean))


def test_two_workers_write_the_shards_of_one_set_and_a_third_host_reads_it(
    hosts, owner_api, project, settings, tmp_path
):
    start_worker_host, _web = hosts
    settings.VIGIA_EMBEDDING_CHUNK_SIZE = 2
    encoder = str(tiny_bert_dir())
    items = synthetic_items(24, seed=5)
    examples = [add(project, item.text) for item in items]
    first, second = start_worker_host("first"), start_worker_host("second")
    response = owner_api.post(f"/api/v1/projects/{project.pk}/embeddings", {"encoder": encoder},
                              format="json")
    assert response.status_code == 202, response.content
    es = EmbeddingSet.objects.get(pk=response.json()["embedding_set"])
    assert es.chunks.count() == 12

    def ready() -> bool:
        es.refresh_from_db()
        return es.state in ("ready", "failed") and bool(es.merged)

    wait_until(ready, 240, "the embedding set", [first, second])
    assert es.state == "ready", es.error
    stored_by = {}
    for proc in (first, second):
        for chunk_id in re.findall(r"embedding chunk (\d+): \d+ vectors stored", proc.log_path.read_text()):
            stored_by[int(chunk_id)] = proc
    assert set(stored_by) == set(es.chunks.values_list("pk", flat=True))
    assert {first, second} == set(stored_by.values()), "both workers wrote shards"

    # This process is a third host: its own cache, nothing local but the bucket's objects.
    settings.VIGIA_CACHE_DIR = tmp_path / "third-host"
    ids, vectors = E.load_vectors(es)
    assert ids.tolist() == [e.pk for e in examples]
    np.testing.assert_allclose(vectors, E.encode_texts(project, [i.text for i in items], encoder),
                               atol=1e-5)
    # Merged once every chunk was ready; the chunk shards are gone from the bucket.
    keys = get_storage().list(E.storage_prefix(es))
    assert [k.rsplit("/", 1)[1] for k in keys] == [f"{es.merged['name']}.ids.npy",
                                                   f"{es.merged['name']}.vectors.npy"]


def test_a_web_host_and_a_worker_host_share_only_the_database_broker_and_bucket(
    hosts, owner, project, tmp_path
):
    start_worker_host, start_web_host = hosts
    token = Token.objects.create(user=owner).key
    encoder = str(tiny_bert_dir())
    for item in synthetic_items(60, seed=3):
        example = add(project, item.text)
        Annotation.objects.create(example=example, user=None, labels=item.labels, source="import")
    pool = [add(project, item.text) for item in synthetic_items(40, seed=4)]
    worker = start_worker_host("worker")
    web, base = start_web_host()
    hosts_up = [worker, web]
    p = project.pk

    # Train on the worker, promote, predict on the web host.
    status, body = call(base, token, "POST", f"/api/v1/projects/{p}/train",
                        {"backend": "embedding_head", "config": {"encoder": encoder, "device": "cpu"}})
    assert status == 202, body
    run_id = body["run"]
    wait_until(lambda: call(base, token, "GET", f"/api/v1/runs/{run_id}")[1]["state"]
               not in ("queued", "running"), 240, "the training run", hosts_up)
    run = call(base, token, "GET", f"/api/v1/runs/{run_id}")[1]
    assert run["state"] == "succeeded", run
    version = ModelVersion.objects.get(pk=run["model_version"])
    assert version.artifact_dir == f"{p}/{run_id}" and len(version.artifact_checksum) == 64
    assert get_storage().exists(f"{version.artifact_dir}/{MANIFEST}")
    status, body = call(base, token, "POST", f"/api/v1/models/{version.pk}/promote")
    assert status == 200 and body["is_current"], body
    status, body = call(base, token, "POST", f"/api/v1/projects/{p}/predict",
                        {"texts": ["hate vermin disgusting people", "a big morning in the city"]})
    assert status == 200, body
    assert body["model_version"] == version.pk and len(body["predictions"]) == 2
    web_cache = tmp_path / "web" / "var" / "cache" / "storage"
    assert (web_cache / version.artifact_dir / "manifest.json").is_file()  # downloaded, checked
    # The worker exported the encoder to ONNX and published it; the web host fetched it.
    assert "fetched the published ONNX export" in web.log_path.read_text()
    assert get_storage().list("encoders")

    # Embed on the worker, then similar examples on the web host.
    status, body = call(base, token, "POST", f"/api/v1/projects/{p}/embeddings", {"encoder": encoder})
    assert status == 202, body

    def embedded() -> bool:
        sets = call(base, token, "GET", f"/api/v1/projects/{p}/embeddings")[1]
        return any(s["encoder"] == encoder and s["state"] in ("ready", "failed") for s in sets)

    wait_until(embedded, 240, "the embedding set", hosts_up)
    [es] = [s for s in call(base, token, "GET", f"/api/v1/projects/{p}/embeddings")[1]
            if s["encoder"] == encoder]
    assert es["state"] == "ready" and es["count"] == 100, es
    status, body = call(base, token, "GET",
                        f"/api/v1/projects/{p}/examples/{pool[0].pk}/similar?k=3&encoder={encoder}")
    assert status == 200, body
    assert len(body["results"]) == 3 and pool[0].pk not in [r["example"] for r in body["results"]]
    # Read from the web host's own copies (the merged shard, or the chunk shards when the
    # request came before the worker merged them).
    assert list((web_cache / "embeddings" / str(p) / str(es["id"])).glob("*.vectors.npy"))

    # Mine on the worker, then read the proposals on the web host.
    status, body = call(base, token, "POST", f"/api/v1/projects/{p}/mining",
                        {"label": "HS", "band": 1, "tails": "both", "n": 3, "encoder": encoder,
                         "seed": 1})
    assert status == 202, body
    mining_id = body["mining_run"]
    wait_until(lambda: call(base, token, "GET", f"/api/v1/mining/{mining_id}")[1]["state"]
               in ("succeeded", "failed"), 240, "the mining run", hosts_up)
    mining = call(base, token, "GET", f"/api/v1/mining/{mining_id}")[1]
    assert mining["state"] == "succeeded", mining
    status, body = call(base, token, "GET", f"/api/v1/mining/{mining_id}/proposals")
    assert status == 200 and body["count"] == 3, body
    assert {r["example"] for r in body["results"]} <= {e.pk for e in pool}

    # Neither host wrote a local store: everything they share went through the bucket.
    for name in ("web", "worker"):
        local_store = tmp_path / name / "var" / "artifacts"
        assert not local_store.exists() or not any(local_store.iterdir()), name
