"""The per-process model cache: load once, pick up promotions, LRU, thread safety."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from models_zoo.artifacts import load_backend
from models_zoo.backends.base import Item
from models_zoo.services.artifact_storage import local_artifact
from models_zoo.serving import (
    ModelCache,
    ModelUnavailable,
    NoCurrentModel,
    get_model_cache,
    version_ref,
)
from tests.models_zoo.prediction_fixtures import (
    make_version,
    prediction_artifacts,
    promote,
    store_artifact,
)


@pytest.fixture(scope="session")
def hateval_artifacts():
    return prediction_artifacts()


class CountingLoader:
    """The real loader, counting calls and optionally slowed down to widen race windows."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[str] = []
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, artifact_dir: str):
        with self._lock:
            self.calls.append(artifact_dir)
        time.sleep(self.delay)
        return load_backend(artifact_dir)


@pytest.fixture
def v1(project, hateval_artifacts):
    return make_version(project, hateval_artifacts["v1"], current=True)


@pytest.fixture
def v2(project, hateval_artifacts):
    return make_version(project, hateval_artifacts["v2"])


def test_it_loads_a_version_once_and_reuses_it(project, v1):
    loader = CountingLoader()
    cache = ModelCache(loader=loader)

    first = cache.current(project.pk)
    second = cache.current(project.pk)

    assert first is second
    assert first.version_id == v1.pk
    assert loader.calls == [str(local_artifact(v1.artifact_dir, v1.artifact_checksum))]
    assert first.backend.predict([Item(text="go back home")])[0].scores.keys() == {"HS", "TR", "AG"}


def test_a_warm_lookup_costs_one_query(project, v1, django_assert_num_queries):
    cache = ModelCache(loader=CountingLoader())
    cache.current(project.pk)

    with django_assert_num_queries(1):
        assert cache.current(project.pk).version_id == v1.pk


def test_it_picks_up_a_promotion_without_clearing_anything(project, v1, v2):
    loader = CountingLoader()
    cache = ModelCache(loader=loader)
    assert cache.current(project.pk).version_id == v1.pk

    promote(v2)

    assert cache.current(project.pk).version_id == v2.pk
    assert loader.calls == [str(local_artifact(v.artifact_dir, v.artifact_checksum)) for v in (v1, v2)]


def test_a_request_holding_the_old_model_finishes_on_it(project, v1, v2):
    # max_versions=1: the promotion even evicts v1 from the cache while it is still in use.
    cache = ModelCache(max_versions=1, loader=CountingLoader())
    held = cache.current(project.pk)
    before = held.backend.predict([Item(text="they should all be sent back")])[0].scores

    promote(v2)
    new = cache.current(project.pk)

    assert cache.cached_version_ids() == [v2.pk]
    after = held.backend.predict([Item(text="they should all be sent back")])[0].scores
    assert held.version_id == v1.pk and new.version_id == v2.pk
    assert after == pytest.approx(before)
    assert new.backend.predict([Item(text="they should all be sent back")])[
        0
    ].scores != pytest.approx(before)


def test_it_evicts_the_least_recently_used_version(project, hateval_artifacts):
    versions = [make_version(project, hateval_artifacts[name]) for name in ("v1", "v2", "v1")]
    loader = CountingLoader()
    cache = ModelCache(max_versions=2, loader=loader)
    cache.get(version_ref(versions[0].pk))
    cache.get(version_ref(versions[1].pk))
    cache.get(version_ref(versions[0].pk))  # touch: versions[1] is now the oldest
    cache.get(version_ref(versions[2].pk))

    assert cache.cached_version_ids() == [versions[0].pk, versions[2].pk]
    assert len(loader.calls) == 3


def test_concurrent_requests_load_a_version_only_once(project, v1):
    loader = CountingLoader(delay=0.3)
    cache = ModelCache(loader=loader)
    ref = version_ref(v1.pk)
    results: list[object] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(cache.get(ref))
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert not errors
    assert len(results) == 8 and all(r is results[0] for r in results)
    assert loader.calls == [str(local_artifact(v1.artifact_dir, v1.artifact_checksum))]


def test_a_project_without_a_current_model_raises_a_clear_error(project, v2):
    with pytest.raises(
        NoCurrentModel, match=f"project {project.pk} has no current model; train one and promote it"
    ):
        ModelCache(loader=CountingLoader()).current(project.pk)


def test_a_missing_artifact_is_reported_by_version(project, tmp_path: Path):
    from models_zoo.models import ModelVersion

    version = ModelVersion.objects.create(
        project=project,
        backend="embedding_head",
        artifact_dir=f"{project.pk}/gone",
        labels=["HS", "TR", "AG"],
        is_current=True,
    )
    with pytest.raises(ModelUnavailable,
                       match=f"model version {version.pk}: artifact not available: directory '{project.pk}/gone'"):
        ModelCache(loader=CountingLoader()).current(project.pk)


def test_the_process_cache_is_a_single_shared_instance():
    assert get_model_cache() is get_model_cache()


def test_threads_sharing_a_cached_model_get_the_same_answers(project, v1):
    cache = ModelCache(loader=CountingLoader())
    texts = ["short one", "a much longer tweet about sending people back " * 5, "medium length"]
    expected = [
        p.scores for p in cache.current(project.pk).backend.predict([Item(text=t) for t in texts])
    ]
    ref = version_ref(v1.pk)  # queried here: threads have their own DB connections
    answers: list[list[dict[str, float]]] = []
    errors: list[BaseException] = []

    def worker(shift: int) -> None:
        try:
            model = cache.get(ref)
            for k in range(4):
                order = [(shift + k + i) % 3 for i in range(3)]
                got = model.backend.predict([Item(text=texts[j]) for j in order])
                answers.append([got[order.index(i)].scores for i in range(3)])
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert not errors
    assert len(answers) == 24
    for answer in answers:
        for got, want in zip(answer, expected, strict=True):
            assert got == pytest.approx(want, abs=1e-5)


def test_model_calls_from_request_threads_run_on_the_persistent_inference_thread(
    project, v1, monkeypatch
):
    cache = ModelCache(loader=CountingLoader())
    loaded = cache.current(project.pk)
    real_predict = loaded.backend.predict
    threads_seen: list[str] = []

    def recording_predict(items):
        threads_seen.append(threading.current_thread().name)
        return real_predict(items)

    monkeypatch.setattr(loaded.backend, "predict", recording_predict)
    answers: list[dict[str, float]] = []

    def request() -> None:  # a web server's fresh per-request thread
        answers.append(loaded.predict([Item(text="they should all go home")])[0].scores)

    for _ in range(3):
        t = threading.Thread(target=request)
        t.start()
        t.join(timeout=60)

    assert len(answers) == 3 and answers[0] == answers[1] == answers[2]
    assert len(set(threads_seen)) == 1 and threads_seen[0].startswith("vigia-inference")


def test_a_corrupt_artifact_is_reported_by_version(project, tmp_path: Path):
    from models_zoo.models import ModelVersion

    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text('{"backend": "embedding_head"}')
    key, checksum = store_artifact(tmp_path / "broken", project.pk)
    version = ModelVersion.objects.create(
        project=project,
        backend="embedding_head",
        artifact_dir=key,
        artifact_checksum=checksum,
        labels=["HS", "TR", "AG"],
        is_current=True,
    )
    with pytest.raises(ModelUnavailable, match=f"model version {version.pk}: cannot load artifact"):
        ModelCache(loader=CountingLoader()).current(project.pk)
