"""Issue 20: a database connection killed under a request (`pg_terminate_backend` from a second
connection, as a failover or an admin would) never turns a read into a server error, and never
turns a stored write into a 500.

- Reads (GET/HEAD) are run again once on a new connection (config.resilience).
- A write whose connection dies before it commits answers 503 (nothing was stored).
- Side effects after a commit (the retrain policy's hook on annotation save) run in
  `after_commit`: their failure is logged and the stored annotation still answers 201.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.db.models.signals import pre_save

from annotator.models import Annotation, Project
from tests.api.factories import make_example
from tests.conftest import _database_url_for_current_test_db

pytestmark = pytest.mark.django_db(transaction=True)


def terminate(pid: int) -> None:
    """End backend `pid` from a second connection and wait until it is gone."""
    with psycopg.connect(_database_url_for_current_test_db(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 10
        while admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]:
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.02)


def own_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


@contextmanager
def killed_before_query(n: int) -> Iterator[list[int]]:
    """Terminate this thread's backend just before the n-th query run inside the block (once):
    the request has already used the connection, so Django's start-of-request health check
    cannot have caught it."""
    seen = [0]
    killed: list[int] = []

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        seen[0] += 1
        if seen[0] == n and not killed:
            killed.append(connection.connection.info.backend_pid)
            terminate(killed[0])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield killed


@pytest.mark.parametrize("nth", [1, 2, 3])
def test_a_read_whose_connection_is_killed_is_run_again(owner_api, project, nth):
    make_example(project, "flooding on the main road")
    with killed_before_query(nth) as killed:
        response = owner_api.get(f"/api/v1/projects/{project.pk}/examples/")
    assert killed, "the request made fewer queries than expected"
    assert response.status_code == 200, response.content[:300]
    assert response.json()["count"] == 1
    assert own_pid() != killed[0]  # served by a new connection


def test_a_page_read_is_run_again_too(client, owner, project):
    client.force_login(owner)
    with killed_before_query(2) as killed:
        response = client.get(f"/projects/{project.pk}/")
    assert killed and response.status_code == 200


def test_a_read_that_loses_the_database_twice_is_a_503_not_a_500(owner_api, project):
    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        terminate(connection.connection.info.backend_pid)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        response = owner_api.get(f"/api/v1/projects/{project.pk}/examples/")
    assert response.status_code == 503
    assert "database is unavailable" in response.json()["detail"]


def test_a_write_whose_connection_dies_before_commit_is_a_503_and_stores_nothing(owner_api, project):
    with killed_before_query(3):
        response = owner_api.post(f"/api/v1/projects/{project.pk}/examples/",
                                  {"text": "a tweet that never lands"}, format="json")
    assert response.status_code == 503, response.content[:300]
    assert not project.examples.filter(text="a tweet that never lands").exists()


@contextmanager
def killed_right_after_the_annotation_commits() -> Iterator[list[int]]:
    """Terminate the backend as the first thing after the annotation's transaction commits,
    before the side effects that follow it (pre_save registers its hook before any post_save
    receiver does, and on_commit hooks run in order)."""
    killed: list[int] = []

    def on_pre_save(sender: type, instance: Annotation, **kwargs: Any) -> None:
        from django.db import transaction

        def kill() -> None:
            if not killed:
                killed.append(connection.connection.info.backend_pid)
                terminate(killed[0])

        transaction.on_commit(kill)

    pre_save.connect(on_pre_save, sender=Annotation, dispatch_uid="test-kill-after-commit")
    try:
        yield killed
    finally:
        pre_save.disconnect(sender=Annotation, dispatch_uid="test-kill-after-commit")


def test_a_stored_annotation_is_never_a_500_when_the_connection_dies_after_the_commit(
    annotator_api, annotator_user, project
):
    Project.objects.filter(pk=project.pk).update(retrain_every=1)  # its hook runs queries
    example = make_example(project, "flooding on the main road")
    with killed_right_after_the_annotation_commits() as killed:
        response = annotator_api.post(
            f"/api/v1/projects/{project.pk}/examples/{example.pk}/annotations",
            {"labels": ["HS"]}, format="json",
        )
    assert killed
    assert response.status_code == 201, response.content[:300]
    assert Annotation.objects.get(example=example, user=annotator_user).labels == ["HS"]
