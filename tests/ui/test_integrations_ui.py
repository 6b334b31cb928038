"""Downstream systems in a real Chromium: an admin creates an API key on the members page (seen
once, then only its prefix), revokes it; registers a webhook, sends a test event to a receiver
on 127.0.0.1 and reads the delivery log; uploads a file to score and downloads the results."""
from __future__ import annotations

import json

import pytest

from integrations.models import ApiKey, Delivery, ScoringJob, Webhook
from integrations.scoring import service as scoring
from integrations.webhooks.deliver import attempt_delivery
from tests.integrations.receiver import start_receiver, stop_receiver
from tests.models_zoo.chunk_fixtures import tiny_artifact
from tests.models_zoo.prediction_fixtures import make_version

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def test_an_admin_creates_sees_once_and_revokes_an_api_key(login, live_server, project, owner, shot):
    page = login(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/members/")
    assert "No API keys yet" in page.inner_text("#api-keys")
    page.fill("#id_key_name", "early-warning dashboard")
    page.check("#api-key-form input[value=predict]")
    page.check("#api-key-form input[value=read]")
    page.click("#api-key-form button[type=submit]")
    page.wait_for_selector("#api-key-created")
    key = page.inner_text("#new-api-key").strip()
    assert key.startswith("vgk_")
    shot(page, "created")
    stored = ApiKey.objects.get()
    assert stored.scopes == ["predict", "read"] and key not in stored.hashed_key
    # Shown once: the members page lists the prefix only.
    page.goto(f"{live_server.url}/projects/{project.pk}/members/")
    listing = page.inner_text(f"#api-key-{stored.pk}")
    assert key not in page.content() and f"vgk_{stored.prefix}" in listing and "never" in listing
    shot(page, "members")
    page.click(f"#api-key-{stored.pk} button")
    page.wait_for_selector(f"#api-key-{stored.pk} .state-cancelled")
    assert "revoked" in page.inner_text(f"#api-key-{stored.pk}")
    assert page.dialogs == []


def test_an_admin_registers_a_webhook_and_sends_a_test_event(login, live_server, project, owner, shot, settings):
    settings.VIGIA_WEBHOOK_ALLOW_PRIVATE = True
    receiver = start_receiver()
    try:
        page = login(owner)
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        page.click("#webhooks-link")
        assert "No webhooks yet" in page.inner_text("main")
        page.fill("#id_url", receiver.url)
        page.check("#add-webhook input[value='model.promoted']")
        page.check("#add-webhook input[value='prediction_job.finished']")
        page.click("#add-webhook button[type=submit]")
        page.wait_for_selector("#webhook-created")
        webhook = Webhook.objects.get()
        assert page.inner_text("#webhook-secret").strip() == webhook.secret
        receiver.secret = webhook.secret
        shot(page, "registered")
        page.click(f"#test-{webhook.pk}")
        page.wait_for_selector(".messages")
        # No worker runs here: the delivery the button queued is attempted in-process.
        attempt_delivery(Delivery.objects.get(webhook=webhook).pk)
        page.goto(f"{live_server.url}/projects/{project.pk}/webhooks/")
        row = page.inner_text(".deliveries tbody tr")
        assert "ping" in row and "succeeded" in row and "200" in row
        assert receiver.requests[0].signature_ok
        Webhook.objects.filter(pk=webhook.pk).update(disabled_reason="disabled after failing for 24.1 h",
                                                     disabled_at="2026-01-01T00:00:00Z")
        page.goto(f"{live_server.url}/projects/{project.pk}/webhooks/")
        assert "24.1 h" in page.inner_text(f"#webhook-disabled-{webhook.pk}")
        shot(page, "log")
        assert page.dialogs == []
    finally:
        stop_receiver(receiver)


def test_a_member_scores_a_file_and_downloads_the_results(login, live_server, project, owner, shot, settings, tmp_path):
    settings.VIGIA_SCORING_DIR = tmp_path / "scoring"
    version = make_version(project, tiny_artifact(), current=True)
    upload = tmp_path / "day.jsonl"
    upload.write_text("".join(json.dumps({"id": i, "text": f"flood {i}"}) + "\n" for i in range(40)))
    page = login(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.click("#scoring-link")
    page.set_input_files("#id_file", str(upload))
    page.click("#scoring-form button[type=submit]")
    page.wait_for_selector(".messages")
    job = ScoringJob.objects.get()
    assert job.rows == 40 and job.model_version_id == version.pk
    assert "Running" in page.inner_text(f"#scoring-job-{job.pk}")
    shot(page, "running")
    for chunk in job.chunks.all():  # no worker here: the chunks run in-process
        scoring.score_chunk(chunk.pk)
    page.wait_for_selector(f"#download-{job.pk}", timeout=20_000)  # the list polls by itself
    with page.expect_download() as download:
        page.click(f"#download-{job.pk}")
    lines = open(download.value.path()).read().splitlines()
    assert len(lines) == 40 and json.loads(lines[0])["model_version"] == version.pk
    shot(page, "done")
    # A bad file is refused with its line named, nothing queued.
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": 5}\n')
    page.set_input_files("#id_file", str(bad))
    page.click("#scoring-form button[type=submit]")
    page.wait_for_selector("#scoring-errors")
    assert "line 2" in page.inner_text("#scoring-errors")
    assert ScoringJob.objects.count() == 1
    shot(page, "refused")
    assert page.dialogs == []
