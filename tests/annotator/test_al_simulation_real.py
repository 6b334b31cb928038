"""The simulation job on a small real set: 400 HatEval EN tweets, real packaged-MiniLM vectors
in the embedding store, run through the service the Celery task calls."""
from __future__ import annotations

import pytest

from annotator.models import Annotation, Simulation
from annotator.services.embeddings import encode_sentences_for
from models_zoo.services.simulations import run_simulation
from tests.annotator.mining_store import add_example, store_vectors
from tests.models_zoo.prediction_fixtures import hateval_rows

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def test_a_simulation_on_real_tweets_beats_its_starting_point(project, owner, datasets_dir):
    # Real tweets: the full HatEval set (the repository's own sample is synthetic).
    rows = hateval_rows(400, path=datasets_dir / "hateval2019" / "train_en.tsv")
    examples = []
    for text, labels in rows:
        e = add_example(project, text)
        Annotation.objects.create(example=e, user=None, labels=labels, source="import")
        examples.append(e)
    store_vectors(project, examples, encode_sentences_for("default", [e.normalized_text for e in examples]))
    sim = Simulation.objects.create(project=project, created_by=owner, params={
        "strategies": ["random", "margin", "margin_diverse"], "n0": 40, "batch": 20, "rounds": 5,
        "seeds": 2, "test_fraction": 0.25, "label": None})
    done = run_simulation(sim.pk)
    assert done.state == "succeeded", done.error
    result = done.result
    assert result["n_examples"] == len({e.pk for e in examples})
    assert 0.3 < result["full_f1"] < 1.0
    for strategy in ("random", "margin", "margin_diverse"):
        curve = result["curves"][strategy]
        assert [p["labels"] for p in curve] == [40, 60, 80, 100, 120, 140]
        # More labels help on real tweets: the last point is above the n0 start.
        assert curve[-1]["f1_mean"] > curve[0]["f1_mean"]
