"""GET /api/v1/projects/{id}/agreement, POST .../examples/{eid}/adjudicate, POST .../undo"""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from sklearn.metrics import cohen_kappa_score

from annotator.models import Annotation, Membership, Role
from models_zoo.models import ModelVersion, Prediction
from tests.api.factories import annotate, make_example
from tests.conftest import make_project


def agreement_url(project) -> str:
    return f"/api/v1/projects/{project.pk}/agreement"


@pytest.fixture
def voted(project, owner, annotator_user):
    """Four examples both the owner and the annotator labelled (HS/TR/AG multilabel)."""
    votes = [
        (["HS"], ["HS"]),
        (["HS", "TR"], ["HS"]),
        ([], ["TR"]),
        (["AG"], ["AG"]),
    ]
    start = timezone.now() - timedelta(hours=1)
    for i, (mine, theirs) in enumerate(votes):
        e = make_example(project, f"example {i}")
        for user, labels, offset in ((owner, mine, 0), (annotator_user, theirs, 5)):
            a = annotate(e, user, labels)
            Annotation.objects.filter(pk=a.pk).update(
                created_at=start + timedelta(seconds=60 * i + offset)
            )
    return votes


def test_admins_get_kappa_per_label_and_pair_with_usernames(owner_api, project, voted):
    response = owner_api.get(agreement_url(project))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) >= {"labels", "overall", "annotators"}
    assert list(body["labels"]) == ["HS", "TR", "AG"]
    [pair] = body["labels"]["HS"]["pairs"]
    assert (pair["a"], pair["b"], pair["n"]) == ("annotator", "owner", 4)
    hs_annotator = [int("HS" in theirs) for _, theirs in voted]
    hs_owner = [int("HS" in mine) for mine, _ in voted]
    assert pair["kappa"] == pytest.approx(cohen_kappa_score(hs_annotator, hs_owner), abs=1e-4)
    # TR: annotator [0,0,1,0], owner [0,1,0,0]: p_o = 0.5, p_e = 0.625 -> kappa = -1/3.
    assert body["labels"]["TR"]["pairs"][0]["kappa"] == pytest.approx(-1 / 3, abs=1e-4)
    # AG: identical -> 1.0; alpha is a number for each label with two codes in use.
    assert body["labels"]["AG"]["pairs"][0]["kappa"] == pytest.approx(1.0)
    assert isinstance(body["overall"]["alpha"], float)


def test_per_annotator_figures_include_pace_and_suggestions(owner_api, project, voted, owner):
    body = owner_api.get(agreement_url(project)).json()
    people = {a["username"]: a for a in body["annotators"]}
    assert set(people) == {"owner", "annotator"}
    # 4 decisions a minute apart: 3 timed minutes -> 60 per hour.
    assert people["owner"]["decisions"] == 4
    assert people["owner"]["decisions_per_hour"] == pytest.approx(60.0)
    assert people["owner"]["suggestions_shown"] == 0
    assert people["owner"]["accepted_unchanged_share"] is None
    assert people["owner"]["agreement"] is not None


def test_suggestions_accepted_unchanged_come_from_the_version_current_at_the_time(
    owner_api, project, owner
):
    version = ModelVersion.objects.create(
        project=project, backend="embedding_head", artifact_dir="/nonexistent",
        labels=["HS", "TR", "AG"], is_current=True,
        promoted_at=timezone.now() - timedelta(days=1),
    )
    for i, (suggested, saved) in enumerate([(["HS"], ["HS"]), (["TR"], ["HS"]), (["AG"], ["AG"])]):
        e = make_example(project, f"suggested {i}")
        p = Prediction.objects.create(example=e, model_version=version, labels=suggested)
        Prediction.objects.filter(pk=p.pk).update(created_at=timezone.now() - timedelta(hours=2))
        annotate(e, owner, saved)
    body = owner_api.get(agreement_url(project)).json()
    [me] = body["annotators"]
    assert (me["suggestions_shown"], me["suggestions_accepted_unchanged"]) == (3, 2)
    assert me["accepted_unchanged_share"] == pytest.approx(2 / 3, abs=1e-4)


def test_annotators_and_viewers_may_not_read_agreement(annotator_api, viewer_api, project):
    assert annotator_api.get(agreement_url(project)).status_code == 403
    assert viewer_api.get(agreement_url(project)).status_code == 403


def test_spans_projects_report_entity_f1(owner, annotator_user):
    from tests.conftest import api_client_for

    project = make_project(owner, task_type="spans", labels=("PER", "LOC"))
    Membership.objects.create(user=annotator_user, project=project, role=Role.ANNOTATOR)
    e = make_example(project, "Ana went to Lisbon")
    annotate(e, owner, spans=[{"start": 0, "end": 3, "label": "PER"},
                              {"start": 12, "end": 18, "label": "LOC"}])
    annotate(e, annotator_user, spans=[{"start": 0, "end": 3, "label": "PER"}])
    body = api_client_for(owner).get(agreement_url(project)).json()
    assert body["measure"] == "f1"
    [pair] = body["overall"]["pairs"]
    assert pair["f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert body["labels"]["PER"]["pairs"][0]["f1"] == pytest.approx(1.0)
    assert body["labels"]["LOC"]["pairs"][0]["f1"] == pytest.approx(0.0)


def test_adjudicate_stores_the_final_labels(owner_api, annotator_api, project, owner):
    e = make_example(project, "adjudicate me")
    url = f"/api/v1/projects/{project.pk}/examples/{e.pk}/adjudicate"
    response = owner_api.post(url, {"labels": ["TR"]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["source"] == "adjudicated"
    assert response.json()["username"] == "owner"
    bad = owner_api.post(url, {"labels": ["NOPE"]}, format="json")
    assert bad.status_code == 400
    assert "unknown label 'NOPE'" in bad.json()["labels"][0]
    assert annotator_api.post(url, {"labels": ["TR"]}, format="json").status_code == 403


def test_undo_takes_back_the_latest_decision(annotator_api, project, annotator_user):
    url = f"/api/v1/projects/{project.pk}/undo"
    assert annotator_api.post(url).status_code == 404
    e = make_example(project, "undo me")
    annotator_api.post(
        f"/api/v1/projects/{project.pk}/examples/{e.pk}/annotations", {"labels": ["HS"]},
        format="json",
    )
    response = annotator_api.post(url)
    assert response.status_code == 200
    assert response.json() == {"example_id": e.pk, "skipped": False}
    assert not Annotation.objects.filter(example=e, user=annotator_user).exists()
