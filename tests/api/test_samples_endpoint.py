"""POST /projects/{id}/samples (preview and draw), GET /samples/{id} with estimates,
GET /samples/{id}/members, and the "sample" queue strategy."""

from __future__ import annotations

import math

import pytest

from annotator.models import Assignment, Sample, SampleMember
from annotator.services.queue import next_example
from tests.api.factories import make_example

pytestmark = pytest.mark.django_db

DESIGN = {"field": "retweet_count", "boundaries": [1], "take_all_above": 100, "size": 10, "seed": 3}


@pytest.fixture
def corpus(project):
    """20 examples with 0 retweets, 8 with 5, 2 viral ones (200): a take-all top stratum."""
    counts = [0] * 20 + [5] * 8 + [200] * 2
    return [
        make_example(project, f"tweet number {i}", meta={"retweet_count": n})
        for i, n in enumerate(counts)
    ]


def url(project, slash: str = "") -> str:
    return f"/api/v1/projects/{project.pk}/samples{slash}"


def test_preview_shows_the_strata_without_drawing(project, corpus, owner_api):
    res = owner_api.post(url(project), {**DESIGN, "preview": True}, format="json")
    assert res.status_code == 200, res.json()
    body = res.json()
    # Take-all 2; the other 8 split 20:8 -> 5.71 / 2.29 -> 6 / 2 by largest remainder.
    assert [(s["name"], s["population"], s["size"], s["take_all"]) for s in body["strata"]] == [
        ("< 1", 20, 6, False),
        ("[1, 100)", 8, 2, False),
        (">= 100 (take-all)", 2, 2, True),
    ]
    assert [s["weight"] for s in body["strata"]] == pytest.approx([20 / 6, 4.0, 1.0])
    assert body["size"] == 10 and not Sample.objects.exists()


def test_a_drawn_sample_annotated_through_rest_gives_the_stratified_estimate(
    project, corpus, owner_api, annotator_api
):
    res = owner_api.post(url(project, "/"), DESIGN, format="json")
    assert res.status_code == 201, res.json()
    sample = res.json()
    assert sample["size"] == 10 and len(sample["strata"]) == 3
    members = owner_api.get(f"/api/v1/samples/{sample['id']}/members").json()
    assert members["count"] == 10
    items = members["results"]
    by_stratum: dict[str, list[int]] = {}
    for item in items:
        by_stratum.setdefault(item["stratum"], []).append(item["example"])
    assert {k: len(v) for k, v in by_stratum.items()} == {
        "< 1": 6,
        "[1, 100)": 2,
        ">= 100 (take-all)": 2,
    }
    assert set(by_stratum[">= 100 (take-all)"]) == {corpus[28].pk, corpus[29].pk}
    assert {i["weight"] for i in items if i["stratum"] == "[1, 100)"} == {4.0}

    # HS on 3 of 6 in the first stratum, 1 of 2 in the second, 2 of 2 in the take-all one.
    positives = set(
        by_stratum["< 1"][:3] + by_stratum["[1, 100)"][:1] + by_stratum[">= 100 (take-all)"]
    )
    todo = [i["example"] for i in items]
    for eid in todo[:-1]:
        labels = ["HS"] if eid in positives else ["TR"]
        r = annotator_api.post(
            f"/api/v1/projects/{project.pk}/examples/{eid}/annotations",
            {"labels": labels},
            format="json",
        )
        assert r.status_code == 201
    partial = owner_api.get(f"/api/v1/samples/{sample['id']}").json()["estimates"]["HS"]
    assert partial["missing"] == 1 and partial["annotated"] == 9
    last = todo[-1]
    annotator_api.post(
        f"/api/v1/projects/{project.pk}/examples/{last}/annotations",
        {"labels": ["HS"] if last in positives else ["TR"]},
        format="json",
    )
    est = owner_api.get(f"/api/v1/samples/{sample['id']}").json()["estimates"]
    hs = est["HS"]
    # p = 20/30 * 3/6 + 8/30 * 1/2 + 2/30 * 2/2 = 16/30
    assert hs["p"] == pytest.approx(16 / 30, abs=1e-6)
    var = (20 / 30) ** 2 * (1 - 6 / 20) * 0.25 / 5 + (8 / 30) ** 2 * (1 - 2 / 8) * 0.25 / 1
    assert hs["se"] == pytest.approx(math.sqrt(var), abs=1e-6)
    assert hs["ci95"][0] == pytest.approx(16 / 30 - 1.959964 * math.sqrt(var), abs=1e-5)
    assert hs["unweighted"] == pytest.approx(6 / 10)
    assert (hs["annotated"], hs["missing"]) == (10, 0)
    assert est["TR"]["p"] == pytest.approx(14 / 30, abs=1e-6)
    assert est["AG"]["p"] == 0 and est["AG"]["se"] == 0


def test_the_same_seed_draws_the_same_members(project, corpus, owner_api):
    a = owner_api.post(url(project), DESIGN, format="json").json()["id"]
    b = owner_api.post(url(project), DESIGN, format="json").json()["id"]

    def ids(sample_id: int) -> list[int]:
        rows = SampleMember.objects.filter(sample_id=sample_id).order_by("example_id")
        return list(rows.values_list("example_id", flat=True))

    assert ids(a) == ids(b)


@pytest.mark.parametrize(
    ("design", "field", "needle"),
    [
        ({"boundaries": [1]}, "field", "field is required"),
        ({"field": "lang", "classes": ["it"], "size": 4}, "field", "missing on 30 of 30"),
        ({**DESIGN, "boundaries": [1, 6]}, "boundaries", "fewer than 2 examples"),
        ({**DESIGN, "size": None, "target_cv": 0.0001}, "target_cv", "no sample reaches"),
        ({**DESIGN, "allocation": "optimal"}, "allocation", "proportional, neyman"),
        ({**DESIGN, "size": 3}, "size", "too small"),
        ({**DESIGN, "colour": 1}, "colour", "unknown field"),
        ({**DESIGN, "expected_p": 1.5, "size": None}, "expected_p", "between 0 and 1"),
    ],
)
def test_designs_that_cannot_be_drawn_get_400_naming_the_problem(
    project, corpus, owner_api, design, field, needle
):
    if design.get("boundaries") == [1, 6]:
        make_example(project, "one with six", meta={"retweet_count": 6})
    res = owner_api.post(
        url(project), {k: v for k, v in design.items() if v is not None}, format="json"
    )
    assert res.status_code == 400, res.json()
    assert needle in " ".join(res.json()[field]), res.json()
    assert not Sample.objects.exists()


def test_a_missing_field_says_on_how_many_examples(project, corpus, owner_api):
    make_example(project, "no retweet count here", meta={})
    res = owner_api.post(url(project), DESIGN, format="json")
    assert res.status_code == 400
    assert "missing on 1 of 31 examples" in res.json()["field"][0]


def test_only_admins_draw_and_outsiders_see_nothing(
    project, corpus, owner_api, annotator_api, outsider_api
):
    assert annotator_api.post(url(project), DESIGN, format="json").status_code == 403
    sid = owner_api.post(url(project), DESIGN, format="json").json()["id"]
    assert annotator_api.get(f"/api/v1/samples/{sid}").status_code == 200
    assert outsider_api.get(f"/api/v1/samples/{sid}").status_code == 404
    assert outsider_api.get(f"/api/v1/samples/{sid}/members").status_code == 404


def test_the_sample_queue_serves_only_its_members(project, corpus, owner_api, annotator_user):
    sid = owner_api.post(url(project), DESIGN, format="json").json()["id"]
    res = owner_api.patch(
        f"/api/v1/projects/{project.pk}/",
        {"queue_strategy": "sample", "queue_sample": sid},
        format="json",
    )
    assert res.status_code == 200, res.json()
    assert res.json()["queue_sample"] == sid
    project.refresh_from_db()
    served = []
    while (example := next_example(project, annotator_user)) is not None:
        served.append(example.pk)
        Assignment.objects.filter(example=example, user=annotator_user).update(status="done")
    members = set(SampleMember.objects.filter(sample_id=sid).values_list("example_id", flat=True))
    assert len(served) == 10 and set(served) == members


def test_queue_sample_must_belong_to_the_project(project, owner_api, owner):
    from tests.conftest import make_project

    other = make_project(owner, labels=("X",))
    make_example(other, "a", meta={"n": 1})
    make_example(other, "b", meta={"n": 1})
    foreign = owner_api.post(
        f"/api/v1/projects/{other.pk}/samples",
        {"field": "n", "boundaries": [], "size": 2},
        format="json",
    )
    assert foreign.status_code == 201, foreign.json()
    res = owner_api.patch(
        f"/api/v1/projects/{project.pk}/", {"queue_sample": foreign.json()["id"]}, format="json"
    )
    assert res.status_code == 400 and "queue_sample" in res.json()
