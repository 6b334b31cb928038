"""The negatives experiment: pure metrics on hand cases, the held-out protocol on synthetic
vectors, and the job over a project's store (service, REST and page)."""
from __future__ import annotations

import numpy as np
import pytest

from annotator.models import Annotation, NegativesExperiment
from models_zoo.mining.experiment import binary_scores, run_negatives_experiment
from models_zoo.mining.experiment_service import create_experiment, run_experiment
from tests.annotator.mining_store import add_example, store_vectors


def test_binary_scores_on_a_hand_case():
    # tp 2, fp 1, fn 1: precision 2/3, recall 2/3, F1 2/3.
    s = binary_scores(np.array([1, 1, 1, 0, 0, 0]), np.array([1, 1, 0, 1, 0, 0]))
    assert s == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3})
    assert binary_scores(np.array([1, 0]), np.array([0, 0])) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def synthetic(groups=("a", "b", "c"), n_pos=30, n_neg=330, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    direction = np.zeros(dim)
    direction[0] = 1.0
    vectors, positive, group = [], [], []
    for g in groups:
        vectors.append(rng.normal(size=(n_pos, dim)) * 0.5 + 2 * direction)
        vectors.append(rng.normal(size=(n_neg, dim)) * 0.5)
        positive += [True] * n_pos + [False] * n_neg
        group += [g] * (n_pos + n_neg)
    v = np.vstack(vectors).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True), np.array(positive), np.array(group)


def test_each_group_is_held_out_at_one_to_ten_with_equal_training_negatives():
    v, pos, groups = synthetic()
    result = run_negatives_experiment(v, pos, groups, seeds=[0, 1], n_train_positives=40, p=200)
    assert result["groups"] == ["a", "b", "c"]
    assert len(result["runs"]) == 3 * 2 * 4
    for run in result["runs"]:
        # 60 positives in the other two groups, capped at 40; the held-out group has 30
        # positives and 330 negatives: 1:10 means 30 and 300.
        assert run["train_positives"] == 40
        assert (run["test_positives"], run["test_negatives"]) == (30, 300)
        if run["setting"] == "random":
            assert run["train_negatives"] == 40
        else:
            assert run["train_negatives"] == min(40, run["band_size"])
    summary = {row["setting"]: row for row in result["summary"]}
    assert list(summary) == ["random", "1sigma", "2sigma", "3sigma"]
    # Well-separated clusters: random negatives find nearly every unseen positive.
    assert summary["random"]["recall_mean"] > 0.9
    assert summary["random"]["f1_mean"] > 0.5
    assert set(summary["random"]["f1_by_group"]) == {"a", "b", "c"}


def test_the_experiment_is_reproducible_with_its_seeds():
    v, pos, groups = synthetic(n_pos=20, n_neg=220)
    a = run_negatives_experiment(v, pos, groups, seeds=[3], n_train_positives=20, p=100)
    b = run_negatives_experiment(v, pos, groups, seeds=[3], n_train_positives=20, p=100)
    assert a == b


@pytest.fixture
def grouped_project(project, settings, tmp_path):
    v, pos, groups = synthetic(groups=("sandy", "boston"), n_pos=12, n_neg=130, dim=8)
    examples = []
    for i, (is_pos, g) in enumerate(zip(pos, groups, strict=True)):
        e = add_example(project, f"tweet {i} from {g}", meta={"event": str(g)})
        Annotation.objects.create(example=e, user=None, labels=["HS"] if is_pos else [], source="import")
        examples.append(e)
    store_vectors(project, examples, v)
    return project


def test_the_job_runs_over_the_store_and_reads_back_over_rest_and_the_page(
    grouped_project, owner, owner_api, client
):
    experiment = create_experiment(grouped_project, owner, {"label": "HS", "seeds": "0 1",
                                                            "n_train_positives": 10})
    assert run_experiment(experiment.pk) == "succeeded"
    body = owner_api.get(f"/api/v1/negatives-experiments/{experiment.pk}").json()
    assert body["state"] == "succeeded" and body["groups"] == ["boston", "sandy"]
    assert [row["setting"] for row in body["summary"]] == ["random", "1sigma", "2sigma", "3sigma"]
    assert len(body["runs"]) == 2 * 2 * 4
    assert all(r["test_positives"] == 12 and r["test_negatives"] == 120 for r in body["runs"])
    client.force_login(owner)
    page = client.get(f"/projects/{grouped_project.pk}/mining/experiments/{experiment.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="experiment-table"' in html and "experiment-plot" in html and "2σ" in html


@pytest.mark.parametrize(
    ("body", "field"),
    [({"label": "NOPE"}, "label"), ({"label": "HS", "group_field": "lang"}, "group_field"),
     ({"label": "HS", "seeds": "x"}, "seeds"), ({"label": "HS", "test_ratio": 0}, "test_ratio")],
)
def test_bad_experiment_parameters_get_400_naming_the_field(grouped_project, owner_api, body, field):
    response = owner_api.post(f"/api/v1/projects/{grouped_project.pk}/negatives-experiments",
                              body, format="json")
    assert response.status_code == 400 and list(response.json()) == [field]
    assert not NegativesExperiment.objects.exists()
