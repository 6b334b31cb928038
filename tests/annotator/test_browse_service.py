"""The data browser's filter service on hand-made data (each filter picks known examples)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from annotator.models import Annotation, AnnotationSource, Example
from models_zoo.models import ModelVersion, Prediction
from models_zoo.services import browse
from models_zoo.services.browse import BrowseFilterInvalid, filtered_examples, parse_filter
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def ex(project, n, text, **meta_and_more):
    posted = meta_and_more.pop("posted_at", None)
    return Example.objects.create(
        project=project, text=text, normalized_text=text.lower(), content_hash=f"h{n}",
        meta=meta_and_more, posted_at=posted,
    )


@pytest.fixture
def world(project, annotator_user):
    bob = make_user("bob")
    e = [
        ex(project, 0, "The quick brown fox jumps", lang="en", retweets=3,
           posted_at=datetime(2024, 1, 5, tzinfo=UTC)),
        ex(project, 1, "Foxes are lovely animals", lang="en", retweets=10,
           posted_at=datetime(2024, 2, 5, tzinfo=UTC)),
        ex(project, 2, "Hola amigos del zorro", lang="es",
           posted_at=datetime(2024, 3, 5, tzinfo=UTC)),
        ex(project, 3, "Nothing to see here", lang="es"),
    ]
    Annotation.objects.create(example=e[0], user=annotator_user, labels=["HS"])
    Annotation.objects.create(example=e[0], user=bob, labels=["TR"])  # annotators disagree
    Annotation.objects.create(example=e[1], user=annotator_user, labels=["HS", "AG"])
    Annotation.objects.create(example=e[1], user=bob, labels=["AG", "HS"])  # same set
    Annotation.objects.create(example=e[2], user=None, labels=["TR"], source=AnnotationSource.IMPORT)
    Annotation.objects.create(example=e[3], user=None, labels=["HS"], source=AnnotationSource.MODEL)
    old = ModelVersion.objects.create(project=project, backend="b", artifact_dir="/x",
                                      labels=["HS", "TR", "AG"], thresholds={"HS": 0.5})
    mv = ModelVersion.objects.create(project=project, backend="b", artifact_dir="/y",
                                     labels=["HS", "TR", "AG"], thresholds={"HS": 0.4}, is_current=True)
    for example, hs, labels in [(e[0], 0.9, ["HS"]), (e[1], 0.2, ["AG", "HS"]), (e[2], 0.55, ["TR"])]:
        Prediction.objects.create(example=example, model_version=mv, scores={"HS": hs, "TR": 0.1},
                                  labels=labels)
    Prediction.objects.create(example=e[3], model_version=old, scores={"HS": 0.99}, labels=["HS"])
    return e


def ids(project, **params):
    return [x.pk for x in filtered_examples(project, parse_filter(params))]


def test_no_filter_lists_every_example_in_id_order(project, world):
    assert ids(project) == [x.pk for x in world]


def test_full_text_search_matches_words(project, world):
    assert ids(project, q="fox") == [world[0].pk]
    assert ids(project, q="zorro amigos") == [world[2].pk]
    assert ids(project, q="elephant") == []


def test_full_text_search_matches_the_gin_index_expression_on_postgresql(project, world):
    sql, params = filtered_examples(project, parse_filter({"q": "fox"})).query.sql_with_params()
    where = sql[sql.index("to_tsvector"):]
    where = where[:where.index("@@")] + "@@ websearch_to_tsquery('simple', %s)"
    with connection.cursor() as cur:
        # Planner choice on four rows is arbitrary: forbid the other paths and check the index
        # can serve the exact expression the service writes.
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_indexscan = off")
        cur.execute("EXPLAIN SELECT id FROM annotator_example WHERE " + where, [params[-1]])
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert "example_text_fts" in plan


def test_label_annotator_source_and_annotated(project, world):
    assert ids(project, label="AG") == [world[1].pk]
    assert ids(project, label="TR") == [world[0].pk, world[2].pk]
    assert ids(project, annotator="bob") == [world[0].pk, world[1].pk]
    assert ids(project, source="import") == [world[2].pk]
    assert ids(project, annotated="yes") == [world[0].pk, world[1].pk, world[2].pk]
    assert ids(project, annotated="no") == [world[3].pk]


def test_score_range_reads_the_current_version_only(project, world):
    assert ids(project, score_label="HS", score_min="0.5") == [world[0].pk, world[2].pk]
    assert ids(project, score_label="HS", score_min="0.5", score_max="0.6") == [world[2].pk]
    # world[3]'s 0.99 is from the old version.
    assert world[3].pk not in ids(project, score_min="0")
    assert ids(project, sort="-score")[:3] == [world[0].pk, world[2].pk, world[1].pk]


def test_model_disagrees_with_humans_compares_label_sets(project, world):
    # world[0]: model HS, bob said TR; world[1]: same set in another order agrees.
    assert ids(project, model_disagrees="yes") == [world[0].pk]


def test_annotators_disagree(project, world):
    assert ids(project, annotators_disagree="yes") == [world[0].pk]


def test_metadata_key_value_as_string_or_number(project, world):
    assert ids(project, meta="lang=es") == [world[2].pk, world[3].pk]
    assert ids(project, meta="retweets=10") == [world[1].pk]
    assert ids(project, meta=["lang=en", "retweets=3"]) == [world[0].pk]


def test_date_range_and_sort_by_date(project, world):
    assert ids(project, posted_after="2024-02-01", posted_before="2024-03-05") == [
        world[1].pk, world[2].pk]
    assert ids(project, sort="-posted_at")[:3] == [world[2].pk, world[1].pk, world[0].pk]


@pytest.mark.parametrize("params,field", [
    ({"score_min": "lots"}, "score_min"),
    ({"score_min": "0.9", "score_max": "0.1"}, "score_min"),
    ({"sort": "text"}, "sort"),
    ({"source": "robot"}, "source"),
    ({"annotated": "maybe"}, "annotated"),
    ({"meta": "lang"}, "meta"),
    ({"posted_after": "yesterday"}, "posted_after"),
    ({"page": "0"}, "page"),
    ({"page_size": "100000"}, "page_size"),
])
def test_bad_values_name_the_field(params, field):
    with pytest.raises(BrowseFilterInvalid) as caught:
        parse_filter(params)
    assert caught.value.field == field


def test_a_score_label_the_model_lacks_is_refused(project, world):
    with pytest.raises(BrowseFilterInvalid, match="not a label of the current model"):
        filtered_examples(project, parse_filter({"score_label": "XX", "score_min": "0.1"}))


def test_page_has_next_and_capped_count(project, world):
    page = browse.browse_page(project, parse_filter({"page_size": "3"}))
    assert [r.pk for r in page.rows] == [x.pk for x in world[:3]]
    assert page.has_next and page.count == 4 and not page.count_capped
    last = browse.browse_page(project, parse_filter({"page_size": "3", "page": "2"}))
    assert [r.pk for r in last.rows] == [world[3].pk] and not last.has_next
    assert last.rows[0].browse_annotations[0].source == "model"


def test_filters_stay_right_inside_subqueries(project, world):
    """The capped count and "all matching" selections run the filter as a subquery: the raw
    SQL parts must refer to that subquery's own rows, not the outer query's."""
    from models_zoo.services.browse_bulk import Selection, selected

    page = browse.browse_page(project, parse_filter({"q": "fox or zorro", "page_size": "1"}))
    assert page.has_next and page.count == 2
    for params, expected in [({"q": "zorro"}, [world[2].pk]),
                             ({"annotators_disagree": "yes"}, [world[0].pk]),
                             ({"model_disagrees": "yes"}, [world[0].pk])]:
        chosen = selected(project, Selection(filter=parse_filter(params)))
        assert sorted(Example.objects.filter(pk__in=chosen).values_list("pk", flat=True)) == expected


@pytest.mark.parametrize("sort", ["id", "-id"])
def test_keyset_pages_give_the_offset_pages(project, world, sort):
    """Following next_after (what the page's Next link does) lists the same rows as OFFSET pages."""
    by_offset, by_keyset, after = [], [], None
    for page_no in (1, 2, 3):
        by_offset.append([r.pk for r in browse.browse_page(
            project, parse_filter({"page_size": "2", "sort": sort, "page": str(page_no)})).rows])
        params = {"page_size": "2", "sort": sort, "page": str(page_no)}
        if after:
            params["after"] = str(after)
        page = browse.browse_page(project, parse_filter(params))
        by_keyset.append([r.pk for r in page.rows])
        after = page.next_after
    assert by_keyset == by_offset
    assert [pk for rows in by_keyset for pk in rows] == sorted(
        (x.pk for x in world), reverse=sort == "-id")
    assert after is None  # the last page has no next


def test_keyset_is_only_for_id_sorts(project, world):
    page = browse.browse_page(project, parse_filter({"page_size": "2", "sort": "posted_at"}))
    assert page.has_next and page.next_after is None
