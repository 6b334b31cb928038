"""Batch scoring in process: input checks naming the line, chunks scored without storing the
texts as examples, the JSONL and CSV results, expiry, cancel, and version pinning."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from annotator.models import Example
from integrations.models import Delivery, ScoringJob
from integrations.scoring import service
from tests.conftest import make_project
from tests.models_zoo.chunk_fixtures import tiny_artifact
from tests.models_zoo.prediction_fixtures import make_version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def scoring_dir(settings, tmp_path):
    settings.VIGIA_SCORING_DIR = tmp_path / "scoring"
    return settings.VIGIA_SCORING_DIR


def jsonl(texts, ids=True) -> bytes:
    return "".join(
        json.dumps({"text": t, **({"id": f"t{i}"} if ids else {})}) + "\n" for i, t in enumerate(texts)
    ).encode()


def upload(owner_api, project, content: bytes, name: str = "texts.jsonl", **fields):
    data = {"file": SimpleUploadedFile(name, content), **fields}
    return owner_api.post(f"/api/v1/projects/{project.pk}/scoring-jobs", data, format="multipart")


def run_all_chunks(job_id: int) -> None:
    for chunk in ScoringJob.objects.get(pk=job_id).chunks.order_by("index"):
        service.score_chunk(chunk.pk)


@pytest.fixture
def version(project):
    return make_version(project, tiny_artifact(), current=True)


def test_bad_uploads_name_the_line_and_queue_nothing(owner_api, project, version):
    res = upload(owner_api, project, b'{"text": "ok"}\n{"text": ""}\nnot json\n{"id": 3}\n')
    assert res.status_code == 400
    assert [e["line"] for e in res.json()["errors"]] == [2, 3, 4]
    assert "empty" in res.json()["errors"][0]["message"]
    res = upload(owner_api, project, b"id,body\n1,hello\n", name="texts.csv")
    assert res.status_code == 400 and "no 'text' column" in res.json()["errors"][0]["message"]
    res = upload(owner_api, project, b"PK\x03\x04", name="images.zip")
    assert res.status_code == 400 and "not supported yet" in res.json()["errors"][0]["message"]
    res = upload(owner_api, project, b"caf\xe9\n", name="texts.csv")
    assert res.status_code == 400 and "not UTF-8" in res.json()["errors"][0]["message"]
    assert upload(owner_api, project, jsonl(["a"]), output_format="xml").status_code == 400
    assert not ScoringJob.objects.exists()


def test_it_scores_every_row_in_chunks_without_storing_examples(owner_api, project, version, scoring_dir):
    texts = [f"flood warning number {i}" for i in range(25)]
    res = upload(owner_api, project, jsonl(texts), chunk_size="10")
    assert res.status_code == 202, res.json()
    job = res.json()
    assert (job["rows"], job["chunks"]["total"], job["state"], job["model_version"]) == (25, 3, "running", version.pk)
    run_all_chunks(job["id"])
    assert not Example.objects.filter(project=project).exists()
    detail = owner_api.get(f"/api/v1/scoring-jobs/{job['id']}").json()
    assert (detail["state"], detail["scored"], detail["progress"]) == ("succeeded", 25, 1.0)
    assert detail["expires_at"] is not None and detail["results_url"].endswith(f"/scoring-jobs/{job['id']}/results")
    # The texts are gone once the results exist.
    assert not (scoring_dir / str(job["id"]) / "input").exists()
    res = owner_api.get(f"/api/v1/scoring-jobs/{job['id']}/results")
    assert res.status_code == 200 and res["Content-Type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in b"".join(res.streaming_content).decode().splitlines()]
    assert [r["row"] for r in rows] == list(range(25))
    assert [r["id"] for r in rows] == [f"t{i}" for i in range(25)]
    assert {r["model_version"] for r in rows} == {version.pk}
    assert all(set(r["scores"]) == {"HS", "TR", "AG"} for r in rows)
    # The same scores as the predict endpoint gives for the same text.
    predicted = owner_api.post(f"/api/v1/projects/{project.pk}/predict", {"texts": texts[:3]}, format="json").json()
    for row, p in zip(rows[:3], predicted["predictions"]):
        assert row["labels"] == p["labels"]
        assert row["scores"] == pytest.approx(p["scores"], abs=1e-5)


def test_csv_in_csv_out_with_a_pinned_version(owner_api, project, version):
    older = make_version(project, tiny_artifact())
    content = b'id,text,other\n1,"first, with a comma",x\n2,second,y\n'
    res = upload(owner_api, project, content, name="day.csv", output_format="csv", model_version=str(older.pk))
    assert res.status_code == 202, res.json()
    run_all_chunks(res.json()["id"])
    body = b"".join(owner_api.get(f"/api/v1/scoring-jobs/{res.json()['id']}/results").streaming_content)
    table = list(csv.DictReader(io.StringIO(body.decode())))
    assert [r["id"] for r in table] == ["1", "2"]
    assert {r["model_version"] for r in table} == {str(older.pk)}
    assert set(table[0]) == {"row", "id", "model_version", "labels", "score_HS", "score_TR", "score_AG"}
    assert 0.0 <= float(table[0]["score_HS"]) <= 1.0


def test_a_version_of_another_project_is_a_404_and_no_current_version_a_409(owner, owner_api, project):
    other = make_project(owner, labels=("HS", "TR", "AG"))
    foreign = make_version(other, tiny_artifact(), current=True)
    res = upload(owner_api, project, jsonl(["x"]), model_version=str(foreign.pk))
    assert res.status_code == 404 and "not a version of this project" in res.json()["model_version"][0]
    assert upload(owner_api, project, jsonl(["x"])).status_code == 409


def test_results_expire(settings, owner_api, project, version, scoring_dir):
    res = upload(owner_api, project, jsonl(["a", "b"]))
    run_all_chunks(res.json()["id"])
    job = ScoringJob.objects.get(pk=res.json()["id"])
    assert (scoring_dir / str(job.pk) / "results.jsonl").exists()
    ScoringJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    res = owner_api.get(f"/api/v1/scoring-jobs/{job.pk}/results")
    assert res.status_code == 410 and "expired" in res.json()["detail"]
    assert ScoringJob.objects.get(pk=job.pk).state == "expired"
    assert not (scoring_dir / str(job.pk)).exists()


def test_cancel_stops_the_chunks_not_started(owner_api, project, version, scoring_dir):
    res = upload(owner_api, project, jsonl(["a", "b", "c"]), chunk_size="1")
    job_id = res.json()["id"]
    first = ScoringJob.objects.get(pk=job_id).chunks.get(index=0)
    assert service.score_chunk(first.pk) == 1
    assert owner_api.post(f"/api/v1/scoring-jobs/{job_id}/cancel").json()["state"] == "cancelled"
    rest = ScoringJob.objects.get(pk=job_id).chunks.exclude(pk=first.pk)
    assert [service.score_chunk(c.pk) for c in rest] == [0, 0]
    assert not (scoring_dir / str(job_id)).exists()
    assert owner_api.post(f"/api/v1/scoring-jobs/{job_id}/resume").status_code == 409


def test_a_finished_job_fires_prediction_job_finished(settings, owner_api, project, version):
    from integrations.webhooks.service import create_webhook

    settings.VIGIA_WEBHOOK_ALLOW_PRIVATE = True
    webhook = create_webhook(project, url="http://127.0.0.1:9/hook", events=["prediction_job.finished"])
    res = upload(owner_api, project, jsonl(["a", "b"]))
    run_all_chunks(res.json()["id"])
    payload = json.loads(Delivery.objects.get(webhook=webhook).body)
    assert payload["event"] == "prediction_job.finished"
    assert (payload["scoring_job"], payload["state"], payload["rows"]) == (res.json()["id"], "succeeded", 2)


def test_predict_pins_a_version(owner, owner_api, project, version):
    older = make_version(project, tiny_artifact())
    url = f"/api/v1/projects/{project.pk}/predict"
    assert owner_api.post(url, {"texts": ["x"]}, format="json").json()["model_version"] == version.pk
    pinned = owner_api.post(url, {"texts": ["x"], "model_version": older.pk}, format="json")
    assert pinned.status_code == 200 and pinned.json()["model_version"] == older.pk
    res = owner_api.post(url, {"texts": ["x"], "model_version": "v1"}, format="json")
    assert res.status_code == 400 and res.json()["errors"][0]["field"] == "model_version"
    foreign = make_version(make_project(owner, labels=("HS", "TR", "AG")), tiny_artifact())
    res = owner_api.post(url, {"texts": ["x"], "model_version": foreign.pk}, format="json")
    assert res.status_code == 404 and "not a version of project" in res.json()["detail"]
    assert owner_api.post(url, {"texts": ["x"], "model_version": 2**70}, format="json").status_code == 400
