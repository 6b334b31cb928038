# ruff: noqa: F811  (fixtures imported from tests.models_zoo.services.helpers are parameters)
from __future__ import annotations

from django.test import Client

from models_zoo.models import ModelVersion, RunState, TrainingRun
from models_zoo.services.training import start_training_run
from models_zoo.services.training_worker import run_training
from models_zoo.services.versions import promote_version
from tests.conftest import make_project
from tests.models_zoo.services.helpers import (  # noqa: F401 - fixtures
    annotated_project,
    artifacts_dir,
    stepping_backend,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _version(project, f1=0.5) -> ModelVersion:
    return ModelVersion.objects.create(
        project=project, backend="stepping", artifact_dir="/nowhere", labels=["HS", "TR", "AG"],
        metrics={"f1_macro": f1, "f1_micro": 0.61, "roc_auc_macro": 0.72,
                 "per_class": {"HS": {"f1": 0.41}, "TR": {"f1": 0.52}, "AG": {"f1": 0.63}}},
        data_snapshot={"counts": {"train": 16, "validation": 4}},
    )


def test_the_picker_lists_only_my_projects(project, outsider, annotator_user):
    make_project(outsider, labels=("X",))
    page = client_for(annotator_user).get("/models/").content.decode()
    assert f"/models/projects/{project.pk}/runs/" in page
    assert page.count("/runs/\"") == 1


def test_the_runs_page_shows_the_config_form_built_from_the_schema(annotated_project, owner):
    response = client_for(owner).get(f"/models/projects/{annotated_project.pk}/runs/")
    assert response.status_code == 200
    page = response.content.decode()
    # embedding_head's pydantic fields with their defaults.
    assert 'name="cfg__head"' in page and 'value="logistic_regression" selected' in page
    assert 'name="cfg__max_iter"' in page and 'value="2000"' in page
    # The backend picker swaps the fields with htmx and keeps a plain GET form.
    assert f'hx-get="/models/projects/{annotated_project.pk}/runs/config-fields"' in page
    assert f'action="/models/projects/{annotated_project.pk}/runs/"' in page


def test_choosing_a_backend_renders_its_fields(annotated_project, owner, stepping_backend):
    response = client_for(owner).get(
        f"/models/projects/{annotated_project.pk}/runs/config-fields?backend=stepping", **HTMX
    )
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert 'name="cfg__steps"' in page and 'value="4"' in page and 'name="cfg__fail_at"' in page
    assert 'name="cfg__encoder"' not in page


def test_members_read_but_only_admins_get_the_start_form(annotated_project, annotator_user):
    page = client_for(annotator_user).get(f"/models/projects/{annotated_project.pk}/runs/").content.decode()
    assert "start-run-form" not in page and "Training runs of" in page


def test_outsiders_get_404_on_every_page(annotated_project, outsider, owner, stepping_backend):
    run = start_training_run(annotated_project, "stepping", {}, owner)
    version = _version(annotated_project)
    client = client_for(outsider)
    for url in (f"/models/projects/{annotated_project.pk}/runs/", f"/models/projects/{annotated_project.pk}/versions/",
                f"/models/runs/{run.pk}/", f"/models/runs/{run.pk}/progress"):
        assert client.get(url).status_code == 404, url
    for url in (f"/models/runs/{run.pk}/cancel", f"/models/versions/{version.pk}/promote",
                f"/models/projects/{annotated_project.pk}/runs/start", f"/models/projects/{annotated_project.pk}/settings"):
        assert client.post(url).status_code == 404, url


def test_starting_a_run_from_the_form_opens_its_page(annotated_project, owner, stepping_backend):
    response = client_for(owner).post(
        f"/models/projects/{annotated_project.pk}/runs/start",
        {"backend": "stepping", "cfg__steps": "7", "cfg__sleep": "", "cfg__fail_at": ""},
    )
    run = TrainingRun.objects.get(project=annotated_project)
    assert response.status_code == 302 and response["Location"] == f"/models/runs/{run.pk}/"
    assert run.config["steps"] == 7 and run.config["sleep"] == 0.0 and run.config["fail_at"] is None


def test_a_bad_form_value_is_shown_next_to_the_form(annotated_project, owner, stepping_backend):
    response = client_for(owner).post(
        f"/models/projects/{annotated_project.pk}/runs/start", {"backend": "stepping", "cfg__steps": "x"}
    )
    assert response.status_code == 400
    assert "config.steps" in response.content.decode()
    assert not TrainingRun.objects.exists()


def test_annotators_cannot_start_runs(annotated_project, annotator_user, stepping_backend):
    response = client_for(annotator_user).post(
        f"/models/projects/{annotated_project.pk}/runs/start", {"backend": "stepping"}
    )
    assert response.status_code == 403 and not TrainingRun.objects.exists()


def test_progress_polls_every_second_while_running_then_stops_with_286(annotated_project, owner, stepping_backend):
    run = start_training_run(annotated_project, "stepping", {"steps": 2}, owner)
    client = client_for(owner)
    page = client.get(f"/models/runs/{run.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and "Cancel run" in page
    assert client.get(f"/models/runs/{run.pk}/progress", **HTMX).status_code == 200
    run_training(run.pk)
    done = client.get(f"/models/runs/{run.pk}/progress", **HTMX)
    assert done.status_code == 286
    body = done.content.decode()
    assert "succeeded" in body and "every 1s" not in body and "Cancel run" not in body


def test_the_cancel_button_cancels(annotated_project, owner, stepping_backend):
    run = start_training_run(annotated_project, "stepping", {}, owner)
    response = client_for(owner).post(f"/models/runs/{run.pk}/cancel")
    assert response.status_code == 302
    assert TrainingRun.objects.get(pk=run.pk).state == RunState.CANCELLED


def test_the_versions_page_puts_metrics_side_by_side(project, viewer):
    current = promote_version(_version(project, 0.55))
    other = _version(project, 0.66)
    page = client_for(viewer).get(f"/models/projects/{project.pk}/versions/").content.decode()
    for figure in ("0.550", "0.660", "0.610", "0.720", "0.410", "0.520", "0.630"):
        assert figure in page
    assert f'id="version-{current.pk}" data-version="{current.pk}" class="current"' in page
    assert f"/models/versions/{other.pk}/promote" not in page  # viewers get no promote button


def test_the_promote_button_makes_a_version_current(project, owner):
    old = promote_version(_version(project))
    new = _version(project)
    client = client_for(owner)
    assert f"/models/versions/{new.pk}/promote" in client.get(f"/models/projects/{project.pk}/versions/").content.decode()
    response = client.post(f"/models/versions/{new.pk}/promote", {"confirm": "1"}, **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"] == f"/models/projects/{project.pk}/versions/"
    assert ModelVersion.objects.get(is_current=True) == new
    old.refresh_from_db()
    assert not old.is_current


def test_admins_set_the_retrain_policy_and_auto_promote(project, owner):
    response = client_for(owner).post(
        f"/models/projects/{project.pk}/settings",
        {"retrain_every": "25", "retrain_backend": "embedding_head", "auto_promote": "on"},
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.retrain_every == 25 and project.auto_promote is True
    client_for(owner).post(f"/models/projects/{project.pk}/settings",
                           {"retrain_every": "", "retrain_backend": "embedding_head"})
    project.refresh_from_db()
    assert project.retrain_every is None and project.auto_promote is False


def test_a_bad_policy_is_explained(project, owner):
    response = client_for(owner).post(
        f"/models/projects/{project.pk}/settings", {"retrain_every": "often", "retrain_backend": "embedding_head"}
    )
    assert response.status_code == 400
    assert "retrain_every must be a whole number" in response.content.decode()
    response = client_for(owner).post(
        f"/models/projects/{project.pk}/settings", {"retrain_every": "5", "retrain_backend": "nope"}
    )
    assert response.status_code == 400
    assert "unknown backend &#x27;nope&#x27;" in response.content.decode()
    project.refresh_from_db()
    assert project.retrain_every is None


def test_annotators_cannot_change_the_policy(project, annotator_user):
    response = client_for(annotator_user).post(f"/models/projects/{project.pk}/settings", {"retrain_every": "3"})
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.retrain_every is None
