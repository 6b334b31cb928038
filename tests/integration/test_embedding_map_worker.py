"""The embedding map job on a real Celery worker: the page's POST queues it, the worker lays
the stored vectors out and caches map.json beside the set (issue 13)."""
from __future__ import annotations

import pytest
from django.test import Client

from annotator.services import embeddings as E
from models_zoo.services.embedding_map import cached_map, map_set
from tests.integration.test_embedding_worker import wait_for
from tests.models_zoo.tiny_hf import tiny_bert_dir
from tests.web.helpers import add_examples

pytestmark = pytest.mark.integration

TEXTS = ["flood water rising downtown", "earthquake shook the city", "lovely sunny picnic",
         "cats sleeping on a sofa"]  # four points: the PCA layout, no numba compile in the worker


def test_the_map_job_runs_on_a_worker_and_the_page_draws_it(celery_worker_process, project, owner,
                                                             settings, tmp_path):
    add_examples(project, TEXTS)
    es = E.request_embedding_set(project, str(tiny_bert_dir()), enqueue=False)
    E.embed_inline(es)
    client = Client()
    client.force_login(owner)
    assert client.post(f"/models/projects/{project.pk}/map/").status_code == 302
    wait_for(lambda: cached_map(map_set(project)) is not None, 60, "the map", celery_worker_process)
    assert len(cached_map(map_set(project))["ids"]) == 4
    page = client.get(f"/models/projects/{project.pk}/map/").content.decode()
    assert page.count('class="map-point"') == 4
    # fresh: asking again starts nothing
    from models_zoo.services.embedding_map import request_map

    assert request_map(project) == "ready"
