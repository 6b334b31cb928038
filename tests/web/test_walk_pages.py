"""Small page defects from issue 19's walk: the label rows a binary project's settings offer,
the keys on the annotate page's label chips, and the sample page's API links."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from annotator.models import Label
from annotator.services.projects import ProjectRuleError, add_label
from tests.conftest import make_project
from tests.web.helpers import client_for

pytestmark = pytest.mark.django_db


def _label_name_inputs(page: str) -> list[str]:
    return re.findall(r'name="(label-\d+-name)"', page)


def test_a_binary_projects_settings_offer_no_new_label_row(owner):
    project = make_project(owner, "binary", labels=("on-topic",))
    page = client_for(owner).get(reverse("project-edit", args=[project.pk])).content.decode()
    assert _label_name_inputs(page) == ["label-0-name"]  # its one label, and no empty row
    assert 'name="label-0-delete"' not in page  # deleting its only label can only fail too
    # The service refuses exactly what the page no longer offers.
    with pytest.raises(ProjectRuleError, match="exactly one label"):
        add_label(project, "second")


def test_a_multilabel_projects_settings_still_offer_new_rows_and_deletes(project, owner):
    page = client_for(owner).get(reverse("project-edit", args=[project.pk])).content.decode()
    assert len(_label_name_inputs(page)) == 5  # HS, TR, AG and two new rows
    assert 'name="label-0-delete"' in page


def _chip_keys(page: str) -> dict[str, list[str]]:
    out = {}
    for label, keys in re.findall(r'value="([^"]+)"[^>]*>\s*<span class="swatch"[^>]*></span>[^<]*'
                                  r'<span class="keys">(.*?)</span>', page, re.S):
        out[label] = re.findall(r"<kbd>(.*?)</kbd>", keys)
    return out


def test_each_label_chip_shows_each_of_its_keys_once(project, annotator_user):
    # HS gets the default shortcut of the first label: its position key, 1 (it showed "1 1").
    Label.objects.filter(project=project, name="HS").update(shortcut="1")
    # A digit shortcut never reaches its label (digits pick by position): not offered.
    Label.objects.filter(project=project, name="TR").update(shortcut="5")
    Label.objects.filter(project=project, name="AG").update(shortcut="g")
    Label.objects.create(project=project, name="OT", shortcut="h", color="#000000", order=9)  # h: guidelines
    from tests.web.helpers import add_examples

    add_examples(project, ["a tweet"])
    page = client_for(annotator_user).get(reverse("annotate", args=[project.pk])).content.decode()
    assert _chip_keys(page) == {"HS": ["1"], "TR": ["2"], "AG": ["3", "g"], "OT": ["4"]}


def test_the_sample_pages_links_to_raw_json_are_marked_as_api_links(project, viewer):
    from annotator.services.samples import draw_sample
    from tests.web.helpers import add_examples

    for i, example in enumerate(add_examples(project, [f"text {i}" for i in range(8)])):
        example.meta = {"lang": "it" if i < 5 else "en"}
        example.save()
    sample = draw_sample(project, {"field": "lang", "classes": ["it"], "size": 4, "seed": 1})
    page = client_for(viewer).get(reverse("sample-detail", args=[project.pk, sample.pk])).content.decode()
    links = re.findall(r'<a ([^>]*)href="(/api/v1/[^"]*)"[^>]*>(.*?)</a>', page, re.S)
    assert {href for _, href, _ in links} == {f"/api/v1/samples/{sample.pk}", f"/api/v1/samples/{sample.pk}/members"}
    for attrs, href, text in links:
        # Each says it is the REST API: marked, typed as JSON, and named by its request.
        assert 'class="api-link"' in attrs and 'type="application/json"' in attrs
        assert f"<code>GET {href}</code>" in text
    assert '<span class="api-badge">REST API</span>' in page
