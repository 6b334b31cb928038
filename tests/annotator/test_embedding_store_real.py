"""The store with the real packaged MiniLM on real CrisisLex T6 tweets (slow: real model, shared data)."""
from __future__ import annotations

import numpy as np
import pytest

from annotator.models import Example
from annotator.normalize import content_hash, normalize
from annotator.services import embeddings as E
from annotator.services.similarity import similar_examples

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def artifacts(settings, tmp_path):
    settings.VIGIA_EMBEDDING_CHUNK_SIZE = 100


def test_neighbours_in_the_real_store_share_the_on_topic_label(project, datasets_dir):
    from bench._data import read_crisislex_t6

    items = read_crisislex_t6("2013_Alberta_Floods", per_event=400, seed=3)
    on_topic = {}
    for item in items:
        clean = normalize(item.text, project.normalization)
        if not clean or Example.objects.filter(project=project, content_hash=content_hash(clean)).exists():
            continue
        example = Example.objects.create(project=project, text=item.text, normalized_text=clean,
                                         content_hash=content_hash(clean))
        on_topic[example.pk] = bool(item.labels)
    s = E.embed_inline(E.request_embedding_set(project, enqueue=False))
    assert s.state == "ready" and s.count == len(on_topic) and s.dim == 384
    ids, vectors = E.load_vectors(s)
    # The store's vectors are what the encoder gives for the same normalised texts.
    sample = [int(i) for i in ids[:20]]
    texts = [Example.objects.get(pk=i).normalized_text for i in sample]
    np.testing.assert_allclose(vectors[:20], E.encode_sentences_for("default", texts), atol=1e-5)

    base_rate = np.mean(list(on_topic.values()))
    agree = []
    for example in Example.objects.filter(pk__in=[i for i, t in on_topic.items() if t])[:60]:
        hits = similar_examples(project, example, k=5)
        agree.append(np.mean([on_topic[h["example"]] for h in hits]))
    # Nearest neighbours of on-topic flood tweets are far more often on-topic than chance.
    assert np.mean(agree) > base_rate + 0.2, (np.mean(agree), base_rate)
