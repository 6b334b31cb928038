"""manage.py draw_sample: preview, draw, and a design error as a CommandError."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from annotator.models import Sample
from tests.api.factories import make_example

pytestmark = pytest.mark.django_db


def test_preview_then_draw_from_the_shell(project):
    for i in range(12):
        make_example(project, f"text {i}", meta={"lang": "it" if i < 8 else "en"})
    out = io.StringIO()
    design = json.dumps({"field": "lang", "classes": ["it"], "size": 6, "seed": 1})
    call_command("draw_sample", str(project.pk), "--design", design, "--preview", stdout=out)
    body = json.loads(out.getvalue())
    assert [(s["name"], s["population"], s["size"]) for s in body["strata"]] == [
        ("it", 8, 4),
        ("other", 4, 2),
    ]
    assert not Sample.objects.exists()
    call_command("draw_sample", str(project.pk), "--design", design, stdout=io.StringIO())
    assert Sample.objects.get().members.count() == 6
    with pytest.raises(CommandError, match="field: field 'author' is missing on 12"):
        call_command(
            "draw_sample", str(project.pk), "--design", '{"field": "author", "classes": ["x"]}'
        )
