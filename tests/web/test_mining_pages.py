"""The mining pages: admins only, the form's errors name the field, the project page links it."""
from __future__ import annotations

from annotator.models import MiningRun
from models_zoo.mining.service import create_mining_run, mine_run
from tests.annotator.mining_store import cosine_project


def test_only_admins_see_the_mining_page_and_its_link(client, project, owner, annotator_user, outsider):
    client.force_login(owner)
    assert 'id="mining-link"' in client.get(f"/projects/{project.pk}/").content.decode()
    assert client.get(f"/projects/{project.pk}/mining/").status_code == 200
    client.force_login(annotator_user)
    assert 'id="mining-link"' not in client.get(f"/projects/{project.pk}/").content.decode()
    assert client.get(f"/projects/{project.pk}/mining/").status_code == 403
    client.force_login(outsider)
    assert client.get(f"/projects/{project.pk}/mining/").status_code == 404


def test_a_bad_form_is_shown_again_with_the_field_named(client, project, owner):
    cosine_project(project)
    client.force_login(owner)
    response = client.post(f"/projects/{project.pk}/mining/", {"label": "HS", "band": "2", "n": "5"})
    assert response.status_code == 400
    assert "n: band 2 holds 2 eligible example(s); asked for 5." in response.content.decode()
    assert not MiningRun.objects.exists()


def test_a_good_form_starts_a_run_and_the_run_page_draws_it(
    client, project, owner, django_capture_on_commit_callbacks
):
    cosine_project(project)
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/projects/{project.pk}/mining/", {"label": "HS", "band": "1", "seed": "2"})
    run = MiningRun.objects.get()
    assert response.status_code == 302 and response.url == f"/projects/{project.pk}/mining/{run.pk}/"
    mine_run(MiningRun.objects.select_related("project").get(pk=run.pk))
    html = client.get(response.url).content.decode()
    assert "<svg" in html and 'class="picked"' in html and "pool tweet at 0.7" in html
    # The state partial stops htmx polling (286) once the run is done.
    poll = client.get(response.url + "?poll=1", HTTP_HX_REQUEST="true")
    assert poll.status_code == 286


def test_serving_needs_a_succeeded_propose_run(client, project, owner):
    cosine_project(project)
    run = create_mining_run(project, owner, {"label": "HS", "band": 1}, enqueue_job=False)
    client.force_login(owner)
    client.post(f"/projects/{project.pk}/mining/{run.pk}/serve/")
    project.refresh_from_db()
    assert project.queue_strategy == "random"
    mine_run(MiningRun.objects.select_related("project").get(pk=run.pk))
    client.post(f"/projects/{project.pk}/mining/{run.pk}/serve/")
    project.refresh_from_db()
    assert project.queue_strategy == "proposals"
