"""Batch scoring in process, on the default (path) store: input checks naming the line, chunks
scored without storing the texts as examples, the JSONL and CSV results, expiry, cancel (also of
a chunk in flight), deletion with the project, and version pinning."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from annotator.models import Example
from config.storage import get_storage
from integrations.models import Delivery, ScoringJob
from integrations.scoring import service
from tests.conftest import make_project
from tests.models_zoo.chunk_fixtures import tiny_artifact
from tests.models_zoo.prediction_fixtures import make_version

pytestmark = pytest.mark.django_db


def stored(job_id: int, under: str = "") -> list[str]:
    """The job's keys in the test's store (conftest's storage_per_test), below `under`."""
    prefix = f"scoring/{job_id}" + (f"/{under}" if under else "")
    return [key.removeprefix(f"scoring/{job_id}/") for key in get_storage().list(prefix)]


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
    assert get_storage().list("scoring") == []


def test_it_scores_every_row_in_chunks_without_storing_examples(owner_api, project, version):
    texts = [f"flood warning number {i}" for i in range(25)]
    res = upload(owner_api, project, jsonl(texts), chunk_size="10")
    assert res.status_code == 202, res.json()
    job = res.json()
    assert (job["rows"], job["chunks"]["total"], job["state"], job["model_version"]) == (25, 3, "running", version.pk)
    assert stored(job["id"]) == ["input/0.jsonl", "input/1.jsonl", "input/2.jsonl"]
    run_all_chunks(job["id"])
    assert not Example.objects.filter(project=project).exists()
    detail = owner_api.get(f"/api/v1/scoring-jobs/{job['id']}").json()
    assert (detail["state"], detail["scored"], detail["progress"]) == ("succeeded", 25, 1.0)
    assert detail["expires_at"] is not None and detail["results_url"].endswith(f"/scoring-jobs/{job['id']}/results")
    # The texts and the chunk outputs are gone once the results exist.
    assert stored(job["id"]) == ["results.jsonl"]
    result = get_storage().read_bytes(f"scoring/{job['id']}/results.jsonl")
    assert ScoringJob.objects.get(pk=job["id"]).result_sha256 == hashlib.sha256(result).hexdigest()
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


def test_a_store_that_refuses_the_chunks_is_a_503_and_leaves_no_job(settings, tmp_path, owner_api, project, version):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.VIGIA_STORAGE_URL = str(blocker / "store")  # every write below it fails
    res = upload(owner_api, project, jsonl(["a", "b"]))
    assert res.status_code == 503 and "shared store did not take the chunks" in res.json()["storage"][0]
    assert not ScoringJob.objects.exists()


def test_a_version_of_another_project_is_a_404_and_no_current_version_a_409(owner, owner_api, project):
    other = make_project(owner, labels=("HS", "TR", "AG"))
    foreign = make_version(other, tiny_artifact(), current=True)
    res = upload(owner_api, project, jsonl(["x"]), model_version=str(foreign.pk))
    assert res.status_code == 404 and "not a version of this project" in res.json()["model_version"][0]
    assert upload(owner_api, project, jsonl(["x"])).status_code == 409


def test_results_expire(settings, owner_api, project, version):
    res = upload(owner_api, project, jsonl(["a", "b"]))
    run_all_chunks(res.json()["id"])
    job = ScoringJob.objects.get(pk=res.json()["id"])
    assert stored(job.pk) == ["results.jsonl"]
    ScoringJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    res = owner_api.get(f"/api/v1/scoring-jobs/{job.pk}/results")
    assert res.status_code == 410 and "expired" in res.json()["detail"]
    assert ScoringJob.objects.get(pk=job.pk).state == "expired"
    assert stored(job.pk) == []


def test_cancel_stops_the_chunks_not_started(owner_api, project, version):
    res = upload(owner_api, project, jsonl(["a", "b", "c"]), chunk_size="1")
    job_id = res.json()["id"]
    first = ScoringJob.objects.get(pk=job_id).chunks.get(index=0)
    assert service.score_chunk(first.pk) == 1
    assert owner_api.post(f"/api/v1/scoring-jobs/{job_id}/cancel").json()["state"] == "cancelled"
    rest = ScoringJob.objects.get(pk=job_id).chunks.exclude(pk=first.pk)
    assert [service.score_chunk(c.pk) for c in rest] == [0, 0]
    assert stored(job_id) == []
    assert owner_api.post(f"/api/v1/scoring-jobs/{job_id}/resume").status_code == 409


def test_a_chunk_in_flight_when_the_job_is_cancelled_leaves_nothing_behind(monkeypatch, owner_api, project, version):
    res = upload(owner_api, project, jsonl(["a", "b"]), chunk_size="1")
    job = ScoringJob.objects.get(pk=res.json()["id"])
    score_rows = service._score_rows

    def cancelled_while_scoring(job_row, rows):
        service.cancel_scoring_job(job)  # deletes the prefix before this chunk's output lands
        return score_rows(job_row, rows)

    monkeypatch.setattr(service, "_score_rows", cancelled_while_scoring)
    assert service.score_chunk(job.chunks.get(index=0).pk) == 0
    job.refresh_from_db()
    assert (job.state, job.done_chunks, job.scored) == ("cancelled", 0, 0)
    assert stored(job.pk) == []


def test_deleting_the_project_deletes_its_jobs_files(owner_api, project, version, django_capture_on_commit_callbacks):
    done = upload(owner_api, project, jsonl(["a", "b"])).json()["id"]
    run_all_chunks(done)
    running = upload(owner_api, project, jsonl(["c", "d"])).json()["id"]
    assert stored(done) == ["results.jsonl"] and stored(running) == ["input/0.jsonl"]
    with django_capture_on_commit_callbacks(execute=True):
        project.delete()
    assert get_storage().list("scoring") == []


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
