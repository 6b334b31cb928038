from __future__ import annotations

from models_zoo.models import ModelVersion
from models_zoo.services.versions import promote_version


def _version(project, f1=0.5) -> ModelVersion:
    return ModelVersion.objects.create(
        project=project, backend="embedding_head", artifact_dir="/nowhere",
        labels=["HS", "TR", "AG"], metrics={"f1_macro": f1},
    )


def test_an_admin_promotes_a_version_and_the_old_one_steps_down(owner_api, project):
    old = promote_version(_version(project))
    new = _version(project, 0.7)
    response = owner_api.post(f"/api/v1/models/{new.pk}/promote")
    assert response.status_code == 200
    assert response.json()["is_current"] is True and response.json()["promoted_at"]
    old.refresh_from_db()
    new.refresh_from_db()
    assert new.is_current and not old.is_current


def test_annotators_cannot_promote(annotator_api, project):
    version = _version(project)
    assert annotator_api.post(f"/api/v1/models/{version.pk}/promote").status_code == 403
    version.refresh_from_db()
    assert not version.is_current


def test_outsiders_get_404(outsider_api, project):
    version = _version(project)
    assert outsider_api.post(f"/api/v1/models/{version.pk}/promote").status_code == 404
    assert outsider_api.post("/api/v1/models/999999/promote").status_code == 404
    version.refresh_from_db()
    assert not version.is_current
