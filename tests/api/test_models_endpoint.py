# ruff: noqa: F811  (fixtures imported from tests.models_zoo.services.helpers are parameters)
from __future__ import annotations

from models_zoo.services.training import start_training_run
from models_zoo.services.training_worker import run_training
from tests.models_zoo.services.helpers import (  # noqa: F401 - fixtures
    annotated_project,
    artifacts_dir,
    stepping_backend,
)


def _version(project, owner):
    run = start_training_run(project, "stepping", {"steps": 2, "seed": 9}, owner)
    return run_training(run.pk)


def test_members_list_versions_with_metrics_and_snapshot_summary(annotator_api, annotated_project, owner, stepping_backend):
    version = _version(annotated_project, owner)
    response = annotator_api.get(f"/api/v1/projects/{annotated_project.pk}/models/")
    assert response.status_code == 200
    [row] = response.json()
    assert row["id"] == version.pk and row["is_current"] is False
    assert "f1_macro" in row["metrics"]
    summary = row["data_snapshot_summary"]
    assert summary["seed"] == 9 and summary["n_train"] == 16 and summary["n_validation"] == 4
    assert summary["n_annotations"] == 20
    assert "data_snapshot" not in row  # the id lists stay on the detail view


def test_the_detail_holds_the_full_data_snapshot(viewer_api, annotated_project, owner, stepping_backend):
    version = _version(annotated_project, owner)
    response = viewer_api.get(f"/api/v1/models/{version.pk}/")
    assert response.status_code == 200
    snapshot = response.json()["data_snapshot"]
    assert len(snapshot["train_example_ids"]) == 16 and len(snapshot["validation_example_ids"]) == 4


def test_outsiders_get_404(outsider_api, annotated_project, owner, stepping_backend):
    version = _version(annotated_project, owner)
    assert outsider_api.get(f"/api/v1/projects/{annotated_project.pk}/models/").status_code == 404
    assert outsider_api.get(f"/api/v1/models/{version.pk}/").status_code == 404


def test_the_backend_list_has_task_types_and_config_schemas(annotator_api):
    response = annotator_api.get("/api/v1/backends/")
    assert response.status_code == 200
    backends = {b["name"]: b for b in response.json()}
    head = backends["embedding_head"]
    assert "multilabel" in head["task_types"] and head["gpu_queue"] is False
    assert "encoder" in head["config_schema"]["properties"]
    assert backends["transformer_classifier"]["gpu_queue"] is True


def test_the_openapi_schema_documents_the_training_endpoints(owner_api):
    response = owner_api.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/projects/{project_id}/train", "/api/v1/runs/{run_id}",
                 "/api/v1/models/{version_id}/promote", "/api/v1/backends/"):
        assert path in paths


def test_versions_list_their_validation_split_and_promotion_note(project, owner_api):
    from models_zoo.models import ModelVersion

    ModelVersion.objects.create(
        project=project, backend="embedding_head", artifact_dir="/nowhere", labels=["HS", "TR", "AG"],
        metrics={"f1_macro": 0.5}, promotion_note="not auto-promoted: validated on a different split",
        data_snapshot={"split": {"kind": "group", "field": "event", "values": ["boston"]}, "counts": {}},
    )
    [row] = owner_api.get(f"/api/v1/projects/{project.pk}/models/").json()
    assert row["data_snapshot_summary"]["split"] == {"kind": "group", "field": "event", "values": ["boston"]}
    assert row["promotion_note"] == "not auto-promoted: validated on a different split"
