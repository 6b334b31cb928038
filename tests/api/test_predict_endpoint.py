"""POST /api/v1/projects/{id}/predict with owner / annotator / viewer / outsider personas."""

from __future__ import annotations

import base64
import io

import pytest
from rest_framework.test import APIClient

from models_zoo.artifacts import load_backend
from models_zoo.backends.base import Item
from models_zoo.services.artifact_storage import local_artifact
from tests.models_zoo.prediction_fixtures import make_version, prediction_artifacts


@pytest.fixture(scope="session")
def hateval_artifacts():
    return prediction_artifacts()


TWEETS = [
    "Send them all back where they came from, we do not want them here",
    "Lovely afternoon walking by the river with my family",
]


def url(project_id: int) -> str:
    return f"/api/v1/projects/{project_id}/predict"


@pytest.fixture
def v1(project, hateval_artifacts):
    return make_version(project, hateval_artifacts["v1"], current=True)


def png_base64() -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_it_predicts_texts_with_the_current_model(owner_api, project, v1):
    response = owner_api.post(url(project.pk), {"texts": TWEETS}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model_version"] == v1.pk
    assert body["backend"] == "embedding_head"
    assert body["thresholds"] == pytest.approx(v1.thresholds)
    assert response["Server-Timing"].startswith("model;dur=")
    assert len(body["predictions"]) == 2
    # The same artifact loaded by hand gives the same scores: the API serves this version.
    expected = load_backend(local_artifact(v1.artifact_dir, v1.artifact_checksum)).predict([Item(text=t) for t in TWEETS])
    for got, want in zip(body["predictions"], expected, strict=True):
        assert set(got) >= {"scores", "labels", "spans"}
        assert got["scores"] == pytest.approx(want.scores, abs=1e-5)
        # Thresholds applied: a label is returned exactly when its score reaches its cut-off.
        assert got["labels"] == [
            name for name in ("HS", "TR", "AG") if got["scores"][name] >= body["thresholds"][name]
        ]
        assert got["spans"] == []


def test_it_normalizes_texts_like_the_training_data(owner_api, project, v1):
    raw = "RT @someone: Lovely afternoon walking by the river https://t.co/abc"
    clean = "Lovely afternoon walking by the river"

    body = owner_api.post(url(project.pk), {"texts": [raw, clean]}, format="json").json()

    assert body["predictions"][0]["scores"] == pytest.approx(body["predictions"][1]["scores"])


@pytest.mark.parametrize("client_name", ["annotator_api", "viewer_api"])
def test_members_of_any_role_may_predict(request, client_name, project, v1):
    client = request.getfixturevalue(client_name)

    response = client.post(url(project.pk), {"texts": TWEETS[:1]}, format="json")

    assert response.status_code == 200
    assert response.json()["model_version"] == v1.pk


def test_it_hides_the_project_from_outsiders(outsider_api, project, v1):
    response = outsider_api.post(url(project.pk), {"texts": TWEETS}, format="json")

    assert response.status_code == 404


def test_a_superuser_who_is_not_a_member_may_predict_and_unknown_ids_are_404(
    outsider, outsider_api, project, v1
):
    outsider.is_superuser = True
    outsider.save(update_fields=["is_superuser"])
    response = outsider_api.post(url(project.pk), {"texts": TWEETS[:1]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["model_version"] == v1.pk
    assert outsider_api.post(url(project.pk + 1000), {"texts": TWEETS}, format="json").status_code == 404


@pytest.mark.parametrize("project_id", ["0", str(2**63), "9" * 25])
def test_ids_outside_the_id_range_are_404_without_a_query(owner_api, project, v1, project_id,
                                                          django_assert_num_queries):
    with django_assert_num_queries(1):  # the token only
        response = owner_api.post(f"/api/v1/projects/{project_id}/predict", {"texts": TWEETS},
                                  format="json")
    assert response.status_code == 404


def test_the_project_and_its_version_come_in_one_query(owner_api, project, v1,
                                                        django_assert_num_queries):
    owner_api.post(url(project.pk), {"texts": TWEETS[:1]}, format="json")  # loads the model
    with django_assert_num_queries(2):  # the token, then project + role + current version
        response = owner_api.post(url(project.pk), {"texts": TWEETS[:1]}, format="json")
    assert response.status_code == 200


def test_it_requires_authentication(project, v1):
    response = APIClient().post(url(project.pk), {"texts": TWEETS}, format="json")

    assert response.status_code == 401


def test_it_answers_409_when_the_project_has_no_current_model(
    owner_api, project, hateval_artifacts
):
    make_version(project, hateval_artifacts["v1"], current=False)

    response = owner_api.post(url(project.pk), {"texts": TWEETS}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"project {project.pk} has no current model; train one and promote it"
    )


def test_it_refuses_more_than_256_items_with_413(owner_api, project, v1):
    response = owner_api.post(url(project.pk), {"texts": ["hello"] * 257}, format="json")

    assert response.status_code == 413
    body = response.json()
    assert "256" in body["detail"] and body["limit"] == 256 and body["count"] == 257


def test_it_refuses_a_body_above_the_upload_limit_with_413(owner_api, project, v1, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = owner_api.post(url(project.pk), {"texts": ["x" * 2000]}, format="json")

    assert response.status_code == 413
    assert "the limit is 1000 bytes" in response.json()["detail"]


def test_it_accepts_exactly_256_items(owner_api, project, v1):
    response = owner_api.post(url(project.pk), {"texts": ["hello there"] * 256}, format="json")

    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 256


def test_it_accepts_items_with_a_base64_image(owner_api, project, v1):
    payload = {"items": [{"text": TWEETS[0], "image": png_base64()}, {"text": TWEETS[1]}]}

    response = owner_api.post(url(project.pk), payload, format="json")

    assert response.status_code == 200, response.content
    assert len(response.json()["predictions"]) == 2


def test_it_names_the_item_whose_image_is_not_base64(owner_api, project, v1):
    payload = {
        "items": [{"text": "fine"}, {"text": "fine"}, {"text": "x", "image": "%%not base64%%"}]
    }

    response = owner_api.post(url(project.pk), payload, format="json")

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["item"] == 2 and error["field"] == "image"
    assert "base64" in error["message"]


def test_it_names_the_item_whose_image_is_not_an_image(owner_api, project, v1):
    payload = {"items": [{"text": "x", "image": base64.b64encode(b"plain words").decode()}]}

    response = owner_api.post(url(project.pk), payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "item": 0,
        "field": "image",
        "message": response.json()["errors"][0]["message"],
    }
    assert "not a readable image" in response.json()["errors"][0]["message"]


def test_it_names_every_item_with_empty_text(owner_api, project, v1):
    response = owner_api.post(url(project.pk), {"texts": ["ok", "", "ok", "   "]}, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["item"], e["field"]) for e in errors] == [(1, "text"), (3, "text")]
    assert all("empty" in e["message"] for e in errors)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "body"),
        ({"texts": "one text"}, "texts"),
        ({"texts": []}, "texts"),
        ({"texts": ["a"], "items": [{"text": "a"}]}, "body"),
        ({"documents": ["a"]}, "documents"),
        ({"items": [{"text": "a", "colour": "red"}]}, "colour"),
        ({"texts": [42]}, "text"),
    ],
)
def test_it_explains_malformed_bodies(owner_api, project, v1, payload, field):
    response = owner_api.post(url(project.pk), payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_a_promotion_changes_the_version_of_the_next_answer(
    owner_api, project, v1, hateval_artifacts
):
    first = owner_api.post(url(project.pk), {"texts": TWEETS}, format="json").json()
    v2 = make_version(project, hateval_artifacts["v2"])

    promoted = owner_api.post(f"/api/v1/models/{v2.pk}/promote", format="json")
    second = owner_api.post(url(project.pk), {"texts": TWEETS}, format="json").json()

    assert promoted.status_code == 200, promoted.content
    assert first["model_version"] == v1.pk
    assert second["model_version"] == v2.pk
    assert second["predictions"][0]["scores"] != pytest.approx(first["predictions"][0]["scores"])


def test_a_missing_artifact_answers_503_naming_the_version(owner_api, project, tmp_path):
    from models_zoo.models import ModelVersion

    version = ModelVersion.objects.create(
        project=project,
        backend="embedding_head",
        artifact_dir=f"{project.pk}/gone",
        labels=["HS", "TR", "AG"],
        is_current=True,
    )

    response = owner_api.post(url(project.pk), {"texts": TWEETS}, format="json")

    assert response.status_code == 503
    assert f"model version {version.pk}" in response.json()["detail"]


def test_the_openapi_schema_documents_the_endpoint(owner_api):
    schema = owner_api.get("/api/v1/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/v1/projects/{project_id}/predict"]["post"]
    assert {"200", "400", "401", "404", "409", "413"} <= set(operation["responses"])
    assert "requestBody" in operation
    paths = schema["paths"]
    assert "202" in paths["/api/v1/projects/{project_id}/predict-all"]["post"]["responses"]
    assert "200" in paths["/api/v1/projects/{project_id}/predictions/status"]["get"]["responses"]
