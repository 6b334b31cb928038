"""GET /projects/<id>/annotate/: the queue page, its personas, escaping and pre-filling."""
from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import Assignment, AssignmentStatus
from tests.conftest import make_project
from tests.web.helpers import HTMX, add_examples, client_for

pytestmark = pytest.mark.django_db


def url(project):
    return reverse("annotate", args=[project.pk])


def test_it_shows_the_next_example_to_an_annotator(project, annotator_user):
    add_examples(project, ["first tweet", "second tweet"])
    r = client_for(annotator_user).get(url(project))
    assert r.status_code == 200
    assert "first tweet" in r.content.decode()
    a = Assignment.objects.get(user=annotator_user)
    assert a.example.text == "first tweet" and a.status == AssignmentStatus.ASSIGNED


def test_it_lets_the_owner_annotate_too(project, owner):
    add_examples(project, ["a tweet"])
    assert client_for(owner).get(url(project)).status_code == 200


def test_it_forbids_viewers(project, viewer):
    add_examples(project, ["a tweet"])
    assert client_for(viewer).get(url(project)).status_code == 403
    assert not Assignment.objects.exists()


def test_it_hides_the_project_from_outsiders(project, outsider):
    assert client_for(outsider).get(url(project)).status_code == 404


def test_it_sends_anonymous_users_to_login(project, client):
    r = client.get(url(project))
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))


def test_it_escapes_markup_and_scripts_in_the_text(project, annotator_user):
    add_examples(project, ['<script>alert("x")</script> <b>bold</b> & co'])
    html = client_for(annotator_user).get(url(project)).content.decode()
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html


def test_it_escapes_span_tokens_too(owner, annotator_user):
    from annotator.models import Membership, Role

    p = make_project(owner, "spans", labels=("LOC", "PER"))
    Membership.objects.create(user=annotator_user, project=p, role=Role.ANNOTATOR)
    add_examples(p, ["<img src=x onerror=alert(1)> Paris"])
    html = client_for(annotator_user).get(url(p)).content.decode()
    assert "<img src=x" not in html
    assert "&lt;" in html and ">Paris</span>" in html


def test_it_shows_the_metadata_line(project, annotator_user):
    add_examples(project, ["tweet"], created_at="2021-05-02", lang="es", retweet_count=42, event="floods")
    html = client_for(annotator_user).get(url(project)).content.decode()
    for piece in ("2021-05-02", ">language</span> es", ">retweets</span> 42", "floods"):
        assert piece in html


def test_it_shows_key_hints_and_colours_for_every_label(project, annotator_user):
    add_examples(project, ["tweet"])
    html = client_for(annotator_user).get(url(project)).content.decode()
    for number, (name, key) in enumerate([("HS", "q"), ("TR", "w"), ("AG", "e")], start=1):
        assert f'value="{name}"' in html
        assert f"<kbd>{number}</kbd><kbd>{key}</kbd>" in html
    assert "--c: #ef4444" in html and "--c: #3b82f6" in html


def test_it_returns_only_the_workspace_to_htmx(project, annotator_user):
    add_examples(project, ["tweet"])
    r = client_for(annotator_user).get(url(project), **HTMX)
    html = r.content.decode()
    assert 'id="workspace"' in html and "<html" not in html


def test_it_resumes_the_same_example_on_reload(project, annotator_user):
    add_examples(project, ["one", "two"])
    c = client_for(annotator_user)
    c.get(url(project))
    c.get(url(project))
    assert Assignment.objects.filter(user=annotator_user).count() == 1


def test_it_says_when_the_queue_is_empty(project, annotator_user):
    html = client_for(annotator_user).get(url(project)).content.decode()
    assert "Nothing left to label" in html


def test_it_prefills_and_marks_model_suggestions(project, annotator_user):
    from models_zoo.models import ModelVersion, Prediction

    (ex,) = add_examples(project, ["suggested tweet"])
    mv = ModelVersion.objects.create(project=project, backend="embedding_head", artifact_dir="/x",
                                     labels=["HS", "TR", "AG"], is_current=True)
    old = ModelVersion.objects.create(project=project, backend="embedding_head", artifact_dir="/y",
                                      labels=["HS", "TR", "AG"])
    Prediction.objects.create(example=ex, model_version=mv, scores={"HS": 0.91, "TR": 0.2, "AG": 0.1},
                              labels=["HS"])
    Prediction.objects.create(example=ex, model_version=old, scores={"AG": 0.9}, labels=["AG"])
    html = client_for(annotator_user).get(url(project)).content.decode()
    assert "Pre-filled from model" in html
    assert 'value="HS" checked' in html
    assert 'value="AG" checked' not in html  # only the current model version counts
    assert "suggested 0.91" in html


def test_it_shows_the_image_when_there_is_one(project, annotator_user):
    (ex,) = add_examples(project, ["tweet with a photo"])
    ex.image = "examples/2024/01/photo.png"
    ex.save()
    html = client_for(annotator_user).get(url(project)).content.decode()
    # Through the members-only view, never the stored name (issue 20: annotator/media.py).
    src = f"/api/v1/projects/{project.pk}/examples/{ex.pk}/image"
    assert f'<img class="example-image" id="example-image" src="{src}"' in html and "photo.png" not in html
    # Beside the text, with the keyboard zoom keys (issue 23).
    assert 'class="media-pair"' in html and "zoom <kbd>+</kbd> <kbd>-</kbd> <kbd>0</kbd>" in html


def test_span_suggestions_prefill_the_hidden_spans_field(owner, annotator_user):
    import json

    from annotator.models import Membership, Role
    from models_zoo.models import ModelVersion, Prediction

    p = make_project(owner, "spans", labels=("LOC", "PER"))
    Membership.objects.create(user=annotator_user, project=p, role=Role.ANNOTATOR)
    (ex,) = add_examples(p, ["Floods in Lima"])
    mv = ModelVersion.objects.create(project=p, backend="span_tagger", artifact_dir="/x",
                                     labels=["LOC", "PER"], is_current=True)
    spans = [{"start": 10, "end": 14, "label": "LOC"}]
    Prediction.objects.create(example=ex, model_version=mv, spans=spans)
    html = client_for(annotator_user).get(url(p)).content.decode()
    assert 'data-spans-suggested="1"' in html and "Pre-filled from model" in html
    import html as html_lib

    value = html.split('id="spans-input" value="')[1].split('"')[0]
    assert json.loads(html_lib.unescape(value)) == spans
