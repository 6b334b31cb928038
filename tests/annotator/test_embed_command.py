"""`manage.py embed PROJECT [--encoder E] [--wait | --inline]`."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotator.models import EmbeddingSet, Example
from annotator.normalize import content_hash
from tests.models_zoo.tiny_hf import tiny_bert_dir


def test_embed_inline_computes_the_set_without_a_worker(project):
    for text in ("one tweet", "two tweets"):
        Example.objects.create(project=project, text=text, normalized_text=text, content_hash=content_hash(text))
    out = StringIO()
    call_command("embed", project.name, "--encoder", str(tiny_bert_dir()), "--inline", stdout=out)
    s = EmbeddingSet.objects.get(project=project)
    assert (s.state, s.count) == ("ready", 2)
    assert f"embedding set {s.pk}: ready, 2 vectors of dim {s.dim}" in out.getvalue()


def test_embed_without_wait_only_enqueues(project, django_capture_on_commit_callbacks):
    Example.objects.create(project=project, text="x y", normalized_text="x y", content_hash=content_hash("x y"))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("embed", str(project.pk), stdout=out)
    assert len(callbacks) == 1
    assert "1 chunk(s), state queued" in out.getvalue()
    assert EmbeddingSet.objects.get(project=project).encoder == "default"


def test_embed_reports_bad_input_clearly(project):
    with pytest.raises(CommandError, match="no project with id or name 'nope'"):
        call_command("embed", "nope")
    # Outside the model roots, without saying whether it exists (models_zoo.model_roots).
    with pytest.raises(CommandError, match="--encoder: '/no/dir' is not a registered model name"):
        call_command("embed", str(project.pk), "--encoder", "/no/dir")
