"""A new install migrates along one line per app: the merge migrations are squashed away.

The squashed migrations keep `replaces`, so a database that applied some of the originals goes on
with them (Django's squash procedure); a new install's graph, built with nothing applied, holds
the squashed nodes only.
"""
from __future__ import annotations

from django.db.migrations.loader import MigrationLoader

OUR_APPS = ("annotator", "models_zoo", "integrations")
SQUASHED = {
    ("annotator", "0001_squashed_0008_merge_browser_and_adjudication"),
    ("models_zoo", "0001_squashed_0003_merge_chunked_prediction_threshold_objective"),
}


def _new_install_graph():
    return MigrationLoader(None, ignore_no_migrations=True).graph  # no connection: nothing applied


def test_a_new_install_has_no_merge_migration():
    graph = _new_install_graph()
    merges = sorted(
        key
        for key in graph.nodes
        if key[0] in OUR_APPS and sum(1 for parent in graph.node_map[key].parents if parent.key[0] == key[0]) > 1
    )
    assert not merges, f"merge migrations in a new install's graph: {merges}"


def test_the_squashed_migrations_stand_in_for_what_they_replace():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for key in SQUASHED:
        assert key in loader.graph.nodes
        replaced = loader.disk_migrations[key].replaces
        assert replaced and not set(map(tuple, replaced)) & set(loader.graph.nodes)
    # Migrations after the squash depend on the squashed node now (the loader remaps them).
    parents = {p.key for p in loader.graph.node_map[("annotator", "0009_worker_heartbeat")].parents}
    assert ("annotator", "0001_squashed_0008_merge_browser_and_adjudication") in parents
    plan = [key for key in loader.graph.leaf_nodes() if key[0] in OUR_APPS]
    assert len(plan) == len(OUR_APPS)  # one leaf per app
