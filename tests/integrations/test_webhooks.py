"""Webhooks: signing, the address guard, registration, and deliveries to a real receiver on
127.0.0.1 from the events the services emit (promotion, finished prediction job with the
index's changed days), the test event, redirects not followed, timeouts retried."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from integrations.models import Delivery, Webhook
from integrations.webhooks.deliver import attempt_delivery, backoff_seconds
from integrations.webhooks.signing import sign, verify_signature
from integrations.webhooks.urlguard import UnsafeUrl, check_url
from tests.integrations.receiver import start_receiver, stop_receiver


def fixed(*addresses):
    return lambda host, port: tuple(addresses)


# --- pure parts ------------------------------------------------------------------------------

def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    # Computed outside Python: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
    assert sign("whsec_test", 1700000000, b'{"a":1}') == (
        "sha256=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
    )
    signature = sign("whsec_test", 1700000000, b'{"a":1}')
    assert verify_signature("whsec_test", "1700000000", b'{"a":1}', signature, now=1700000010)
    assert not verify_signature("whsec_other", "1700000000", b'{"a":1}', signature, now=1700000010)
    assert not verify_signature("whsec_test", "1700000000", b'{"a":2}', signature, now=1700000010)
    assert not verify_signature("whsec_test", "1700000000", b'{"a":1}', signature, now=1700009999)


def test_backoff_doubles_and_is_capped():
    assert [backoff_seconds(n, 30) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_seconds(20, 30) == 3600


@pytest.mark.parametrize("address", [
    "10.0.0.1", "192.168.1.10", "172.16.0.1", "127.0.0.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "::1", "fc00::1", "fe80::1", "::ffff:10.0.0.1", "224.0.0.1",
])
def test_private_and_reserved_addresses_are_refused(address):
    with pytest.raises(UnsafeUrl, match="private or reserved"):
        check_url("https://receiver.example.org/hook", allow_private=False, resolver=fixed(address))


def test_one_private_address_among_public_ones_is_refused():
    with pytest.raises(UnsafeUrl, match="10.1.2.3"):
        check_url("https://mixed.example.org/", allow_private=False,
                  resolver=fixed("93.184.216.34", "10.1.2.3"))


def test_public_https_passes_and_plain_http_only_to_loopback():
    target = check_url("https://hooks.example.org:8443/in?x=1", allow_private=False,
                       resolver=fixed("93.184.216.34"))
    assert (target.host, target.port, target.path, target.addresses) == (
        "hooks.example.org", 8443, "/in?x=1", ("93.184.216.34",))
    with pytest.raises(UnsafeUrl, match="only to loopback"):
        check_url("http://hooks.example.org/", allow_private=True, resolver=fixed("93.184.216.34"))
    with pytest.raises(UnsafeUrl, match="private"):  # loopback is private too
        check_url("http://127.0.0.1:8000/", allow_private=False)
    assert check_url("http://127.0.0.1:8000/", allow_private=True).addresses == ("127.0.0.1",)
    for bad in ("ftp://x.org/", "https://user:pw@x.org/", "https:///nohost", ""):
        with pytest.raises(UnsafeUrl):
            check_url(bad, allow_private=True, resolver=fixed("93.184.216.34"))


# --- registration ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_registration_answers_the_secret_once_and_refuses_private_targets(settings, owner_api, project):
    url = f"/api/v1/projects/{project.pk}/webhooks"
    settings.VIGIA_WEBHOOK_ALLOW_PRIVATE = False
    res = owner_api.post(url, {"url": "http://127.0.0.1:9/x", "events": ["model.promoted"]}, format="json")
    assert res.status_code == 400 and "VIGIA_WEBHOOK_ALLOW_PRIVATE" in res.json()["url"][0]
    res = owner_api.post(url, {"url": "https://10.0.0.5/x", "events": ["model.promoted"]}, format="json")
    assert res.status_code == 400 and "10.0.0.5" in res.json()["url"][0]
    settings.VIGIA_WEBHOOK_ALLOW_PRIVATE = True
    res = owner_api.post(url, {"url": "http://127.0.0.1:9/x", "events": ["training.done"]}, format="json")
    assert res.status_code == 400 and "training.done" in res.json()["events"][0]
    res = owner_api.post(url, {"url": "http://127.0.0.1:9/x", "events": ["index.updated", "model.promoted"]},
                         format="json")
    assert res.status_code == 201, res.json()
    body = res.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["model.promoted", "index.updated"]
    listed = owner_api.get(url).json()
    assert listed[0]["id"] == body["id"] and "secret" not in listed[0]


# --- deliveries to a real receiver ---------------------------------------------------------------

@pytest.fixture
def receiver():
    made = []

    def make(**options):
        made.append(start_receiver(**options))
        return made[-1]

    yield make
    for r in made:
        stop_receiver(r)


@pytest.fixture
def allow_loopback(settings):
    settings.VIGIA_WEBHOOK_ALLOW_PRIVATE = True
    settings.VIGIA_WEBHOOK_TIMEOUT_SECONDS = 1.0
    settings.VIGIA_WEBHOOK_RETRY_BASE_SECONDS = 5


def register(project, url, events):
    from integrations.webhooks.service import create_webhook

    return create_webhook(project, url=url, events=events)


@pytest.mark.django_db
def test_a_promotion_is_delivered_signed_to_the_receiver(allow_loopback, receiver, owner, project):
    from models_zoo.services.versions import promote_version
    from tests.models_zoo.chunk_fixtures import tiny_artifact
    from tests.models_zoo.prediction_fixtures import make_version

    hook = receiver()
    webhook = register(project, hook.url, ["model.promoted"])
    hook.secret = webhook.secret
    first = make_version(project, tiny_artifact(), current=True)
    second = make_version(project, tiny_artifact())
    promote_version(second)
    delivery = Delivery.objects.get(webhook=webhook)
    assert attempt_delivery(delivery.pk) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("succeeded", 200, 1)
    assert delivery.duration_ms > 0
    [got] = hook.requests
    assert got.signature_ok is True
    assert got.headers["X-Vigia-Event"] == "model.promoted"
    assert got.headers["X-Vigia-Delivery"] == str(delivery.pk)
    payload = json.loads(got.body)
    assert payload["event"] == "model.promoted" and payload["project"] == project.pk
    assert (payload["model_version"], payload["previous_version"]) == (second.pk, first.pk)
    webhook.refresh_from_db()
    assert webhook.last_success_at is not None and webhook.failing_since is None
    # Delivered once: a redelivered task message does nothing.
    assert attempt_delivery(delivery.pk) is None and len(hook.requests) == 1


@pytest.mark.django_db
def test_a_finished_prediction_job_announces_the_days_it_changed(allow_loopback, receiver, owner, project):
    from annotator.models import Example
    from models_zoo.services.chunked_prediction import predict_chunk, start_prediction_job
    from tests.models_zoo.chunk_fixtures import add_texts, tiny_artifact
    from tests.models_zoo.prediction_fixtures import make_version

    hook = receiver()
    webhook = register(project, hook.url, ["prediction_job.finished", "index.updated"])
    hook.secret = webhook.secret
    version = make_version(project, tiny_artifact(), current=True)
    ids = add_texts(project, 30)
    days = [dt.datetime(2024, 3, d, 12, tzinfo=dt.UTC) for d in (1, 1, 5)]
    for pk, when in zip(ids, days):
        Example.objects.filter(pk=pk).update(posted_at=when)
    job = start_prediction_job(project, version.pk, chunk_size=10)
    for chunk in job.chunks.order_by("index"):
        predict_chunk(chunk.pk)
    deliveries = {d.event: d for d in Delivery.objects.filter(webhook=webhook)}
    assert set(deliveries) == {"prediction_job.finished", "index.updated"}
    for d in deliveries.values():
        attempt_delivery(d.pk)
    bodies = {r.headers["X-Vigia-Event"]: json.loads(r.body) for r in hook.requests}
    assert all(r.signature_ok for r in hook.requests)
    assert bodies["prediction_job.finished"]["prediction_job"] == job.pk
    assert bodies["prediction_job.finished"]["predicted"] == 30
    assert bodies["index.updated"]["days"] == ["2024-03-01", "2024-03-05"]
    assert bodies["index.updated"]["model_version"] == version.pk


@pytest.mark.django_db
def test_index_updated_is_not_sent_when_no_day_changed(allow_loopback, receiver, owner, project):
    from models_zoo.services.chunked_prediction import predict_chunk, start_prediction_job
    from tests.models_zoo.chunk_fixtures import add_texts, tiny_artifact
    from tests.models_zoo.prediction_fixtures import make_version

    webhook = register(project, receiver().url, ["index.updated"])
    version = make_version(project, tiny_artifact(), current=True)
    add_texts(project, 5)  # no posting dates
    job = start_prediction_job(project, version.pk, chunk_size=10)
    for chunk in job.chunks.all():
        predict_chunk(chunk.pk)
    assert not Delivery.objects.filter(webhook=webhook).exists()


@pytest.mark.django_db
def test_redirects_are_not_followed(allow_loopback, receiver, project):
    target = receiver()
    hook = receiver(location=target.url)
    webhook = register(project, hook.url, ["model.promoted"])
    from integrations.webhooks.service import send_test_event

    delivery = send_test_event(webhook)
    attempt_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.response_code == 302
    assert "not followed" in delivery.error
    assert len(hook.requests) == 1 and target.requests == []


@pytest.mark.django_db
def test_a_timeout_is_retried_with_backoff(allow_loopback, receiver, project):
    from config.events import MODEL_PROMOTED, emit

    hook = receiver(delay=2.0)
    webhook = register(project, hook.url, ["model.promoted"])
    emit(MODEL_PROMOTED, project.pk, {"model_version": 1})
    delivery = Delivery.objects.get(webhook=webhook)
    retry_in = attempt_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert retry_in == 5 and delivery.status == "retrying"
    assert delivery.response_code is None and "timed out" in delivery.error
    assert delivery.next_attempt_at > timezone.now()
    webhook.refresh_from_db()
    assert webhook.failing_since is not None and webhook.enabled


@pytest.mark.django_db
def test_a_delivery_to_a_now_private_address_is_refused_without_connecting(settings, receiver, project):
    settings.VIGIA_WEBHOOK_ALLOW_PRIVATE = True
    hook = receiver()
    webhook = register(project, hook.url, ["model.promoted"])
    settings.VIGIA_WEBHOOK_ALLOW_PRIVATE = False  # e.g. the operator turned it off since
    from config.events import MODEL_PROMOTED, emit

    emit(MODEL_PROMOTED, project.pk, {"model_version": 1})
    attempt_delivery(Delivery.objects.get(webhook=webhook).pk)
    delivery = Delivery.objects.get(webhook=webhook)
    assert delivery.status == "retrying" and delivery.error.startswith("refused:")
    assert hook.requests == []


@pytest.mark.django_db
def test_the_test_button_sends_a_ping_and_the_page_shows_the_delivery(allow_loopback, receiver, owner, client, project):
    hook = receiver()
    webhook = register(project, hook.url, ["model.promoted"])
    hook.secret = webhook.secret
    client.force_login(owner)
    res = client.post(f"/projects/{project.pk}/webhooks/{webhook.pk}/test/")
    assert res.status_code == 302
    delivery = Delivery.objects.get(webhook=webhook, is_test=True)
    attempt_delivery(delivery.pk)
    assert hook.requests[0].headers["X-Vigia-Event"] == "ping" and hook.requests[0].signature_ok
    page = client.get(f"/projects/{project.pk}/webhooks/").content.decode()
    assert f'id="delivery-{delivery.pk}"' in page and "succeeded" in page and "200" in page


@pytest.mark.django_db
def test_a_disabled_webhook_gets_no_deliveries_and_the_page_says_so(allow_loopback, owner, client, project):
    from config.events import MODEL_PROMOTED, emit

    webhook = register(project, "http://127.0.0.1:9/x", ["model.promoted"])
    Webhook.objects.filter(pk=webhook.pk).update(
        disabled_at=timezone.now(), disabled_reason="disabled after failing for 24.0 h without a success")
    emit(MODEL_PROMOTED, project.pk, {"model_version": 1})
    assert not Delivery.objects.exists()
    client.force_login(owner)
    page = client.get(f"/projects/{project.pk}/webhooks/").content.decode()
    assert f'id="webhook-disabled-{webhook.pk}"' in page and "24.0 h" in page


@pytest.mark.parametrize("url", ["http://[::1", "https://" + "a" * 70 + ".org/", "https://x.org:99999/",
                                 "javascript:alert(1)", "https://.../"])
def test_malformed_urls_are_refused_not_crashed(url):
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_private=True)


@pytest.mark.django_db
def test_a_failing_event_receiver_never_breaks_the_service_transaction(allow_loopback, project):
    from django.db import connection, transaction

    from config.events import INDEX_UPDATED, emit

    register(project, "http://127.0.0.1:9/x", ["index.updated"])

    def broken_query():
        with connection.cursor() as cur:
            cur.execute("SELECT no_such_column FROM annotator_project")
        return {}

    with transaction.atomic():
        emit(INDEX_UPDATED, project.pk, broken_query)  # logged, not raised
        project.name = "still saved"
        project.save(update_fields=["name"])  # the transaction is still usable
    project.refresh_from_db()
    assert project.name == "still saved"
    assert not Delivery.objects.exists()


def payloads(webhook) -> list[dict]:
    return [json.loads(d.body) for d in Delivery.objects.filter(webhook=webhook).order_by("id")]


@pytest.mark.django_db
def test_imports_announce_their_outcome(allow_loopback, owner_api, project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    webhook = register(project, "http://127.0.0.1:9/x", ["import.finished"])
    url = f"/api/v1/projects/{project.pk}/import"
    good = SimpleUploadedFile("a.csv", b"text\nflooding downtown\nroad closed\n")
    assert owner_api.post(url, {"file": good, "format": "csv"}, format="multipart").status_code == 201
    bad = SimpleUploadedFile("b.jsonl", b"not json\n")
    assert owner_api.post(url, {"file": bad, "format": "jsonl"}, format="multipart").status_code == 400
    done, failed = payloads(webhook)
    assert (done["event"], done["state"], done["imported"], done["import_job"]) == ("import.finished", "succeeded", 2, None)
    assert (failed["state"], failed["imported"]) == ("failed", 0)


@pytest.mark.django_db
def test_training_runs_announce_how_they_finished(allow_loopback, settings, project):
    from models_zoo.models import RunState, TrainingRun
    from models_zoo.services.training import cancel_run, reap_stale_runs

    webhook = register(project, "http://127.0.0.1:9/x", ["training.finished"])
    queued = TrainingRun.objects.create(project=project, backend="embedding_head", state=RunState.QUEUED)
    cancel_run(queued)
    stale = TrainingRun.objects.create(project=project, backend="embedding_head", state=RunState.RUNNING,
                                       heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    assert reap_stale_runs() == 1
    cancelled, lost = payloads(webhook)
    assert (cancelled["run"], cancelled["state"], cancelled["model_version"]) == (queued.pk, "cancelled", None)
    assert (lost["run"], lost["state"]) == (stale.pk, "failed")
