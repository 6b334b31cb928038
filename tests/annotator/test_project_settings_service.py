"""One check behind both edges (issue 13): the retrain policy and plain settings are refused by
the project service, so the REST API, the project settings page and the models page's policy
form give the same error for the same bad value."""
from __future__ import annotations

import html

import pytest
from django.urls import reverse

from annotator.models import Membership, Project
from annotator.services.project_settings import check_retrain_settings, parse_retrain_every
from annotator.services.project_setup import LabelEdit, delete_project, save_project_setup
from annotator.services.projects import ProjectRuleError, create_project, update_project
from tests.web.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "expected"), [("", None), (None, None), ("0", None), (0, None), ("25", 25), (7, 7)]
)
def test_retrain_every_empty_or_zero_means_off(raw, expected):
    assert parse_retrain_every(raw) == expected


@pytest.mark.parametrize("raw", ["often", "-3", -1, "2.5", True])
def test_retrain_every_refuses_what_is_not_a_count(raw):
    with pytest.raises(ProjectRuleError, match="retrain_every must be a whole number >= 1") as caught:
        parse_retrain_every(raw)
    assert caught.value.field == "retrain_every"


def test_a_backend_must_train_the_task_type():
    with pytest.raises(ProjectRuleError, match="'span_tagger' cannot train a multilabel project; valid: ") as caught:
        check_retrain_settings({"retrain_backend": "span_tagger"}, "multilabel")
    assert caught.value.field == "retrain_backend" and "embedding_head" in caught.value.message
    assert check_retrain_settings({"retrain_backend": "span_tagger"}, "spans") == {"retrain_backend": "span_tagger"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"overlap": 0}, "overlap"), ({"overlap": 101}, "overlap"), ({"normalization": "loud"}, "normalization"),
     ({"auto_promote": "yes"}, "auto_promote")],
)
def test_plain_settings_are_checked_too(fields, field):
    with pytest.raises(ProjectRuleError) as caught:
        check_retrain_settings(fields, "multilabel")
    assert caught.value.field == field


def test_create_project_refuses_a_bad_policy_and_stores_nothing(owner):
    with pytest.raises(ProjectRuleError, match="cannot train a spans project"):
        create_project(creator=owner, name="p", task_type="spans", labels=["LOC"], retrain_backend="embedding_head")
    with pytest.raises(ProjectRuleError, match="name must not be empty"):
        create_project(creator=owner, name="  ", task_type="binary", labels=["x"])
    assert not Project.objects.exists() and not Membership.objects.exists()


def test_update_project_normalises_retrain_every(project):
    update_project(project, retrain_every=0, auto_promote=True)
    project.refresh_from_db()
    assert project.retrain_every is None and project.auto_promote is True


BAD_POLICIES = [
    ({"retrain_every": -3}, "retrain_every", "retrain_every must be a whole number >= 1, or empty for off; got -3."),
    ({"retrain_backend": "span_tagger"}, "retrain_backend", "backend 'span_tagger' cannot train a multilabel project"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_POLICIES)
def test_page_rest_and_policy_form_refuse_a_bad_policy_with_the_same_error(project, owner, owner_api, change, field, message):
    rest = owner_api.patch(f"/api/v1/projects/{project.pk}/", change, format="json")
    assert rest.status_code == 400 and rest.json()[field][0].startswith(message)

    page = client_for(owner).post(reverse("project-edit", args=[project.pk]), {
        "name": project.name, "task_type": project.task_type, "overlap": "1", "normalization": "strip",
        "queue_strategy": "random", "retrain_backend": "embedding_head", "retrain_every": "",
        **{k: str(v) for k, v in change.items()},
    })
    assert page.status_code == 400 and message in html.unescape(page.content.decode())

    form = {"retrain_every": "", "retrain_backend": "embedding_head", **{k: str(v) for k, v in change.items()}}
    policy = client_for(owner).post(f"/models/projects/{project.pk}/settings", form)
    assert policy.status_code == 400 and message in html.unescape(policy.content.decode())
    project.refresh_from_db()
    assert (project.retrain_every, project.retrain_backend) == (None, "embedding_head")


def test_save_project_setup_is_all_or_nothing(project):
    hs = project.labels.get(name="HS")
    with pytest.raises(ProjectRuleError, match="new label 'TR'"):
        save_project_setup(project, {"guidelines": "be kind"}, [
            LabelEdit(hs.pk, "Hate", "h", "#000000"), LabelEdit(None, "TR")])
    hs.refresh_from_db()
    project.refresh_from_db()
    assert (hs.name, project.guidelines) == ("HS", "")
    save_project_setup(project, {"guidelines": "be kind"}, [
        LabelEdit(hs.pk, "Hate", "h", "#000000"), LabelEdit(project.labels.get(name="AG").pk, "AG", delete=True),
        LabelEdit(None, "Irony")])
    assert list(project.labels.order_by("order").values_list("name", "shortcut")) == [
        ("Hate", "h"), ("TR", "w"), ("Irony", "1")]


def test_delete_project_wants_the_exact_name(project):
    with pytest.raises(ProjectRuleError, match="type the project's name exactly"):
        delete_project(project, confirm_name=project.name.upper())
    assert Project.objects.filter(pk=project.pk).exists()
    delete_project(project, confirm_name=f" {project.name} ")
    assert not Project.objects.filter(pk=project.pk).exists()
