"""`make run`'s own configuration, end to end: `serve --demo` on the embedded PostgreSQL server
and the `filesystem://` broker, with a real Celery worker. The demo shows the loop on its own
(the first model trains in the background, is promoted, predicts every tweet, and the index
has days); Ctrl-C stops everything, the embedded server included; a second start reuses the
data and queues nothing new."""
from __future__ import annotations

import time

import pytest

from config.embedded_db import running

pytestmark = [pytest.mark.embedded, pytest.mark.integration]


def _until(check, seconds: float, what: str, stack):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"gave up waiting for {what}:\n{stack.log()[-5000:]}")


def test_the_demo_trains_its_first_model_and_fills_the_index_then_restarts_on_its_data(demo_stack):
    demo_stack.start(demo=True)
    screen = demo_stack.log_path.read_text()
    assert "Vigia is running at http://localhost:" in screen
    assert "admin / vigia-demo" in screen and "annotator / vigia-demo" in screen
    assert "embedded PostgreSQL in" in screen and "broker:     filesystem" in screen
    assert "first model is training in the background" in screen
    token = demo_stack.token("admin", "vigia-demo")
    status, projects = demo_stack.api("/api/v1/projects/", token)
    project = projects["results"][0]["id"]

    def current_version():
        status, body = demo_stack.api(f"/api/v1/projects/{project}/models/", token)
        rows = body["results"] if isinstance(body, dict) and "results" in body else body
        return [v for v in rows if v["is_current"]] if status == 200 else None

    _until(current_version, 240, "the demo's first model", demo_stack)

    def index_days():
        status, body = demo_stack.api(f"/api/v1/projects/{project}/index?label=on-topic", token)
        return body["days"] if status == 200 and sum(d["n"] for d in body["days"]) >= 250 else None

    days = _until(index_days, 120, "predictions of every tweet in the index", demo_stack)
    # CrisisLex T6: six events from October 2012 to June 2013, dated by their tweet ids.
    assert days[0]["date"] == "2012-10-28" and days[-1]["date"] == "2013-06-30"
    assert sum(d["n"] > 0 for d in days) == 41
    assert demo_stack.shell(
        "import json; from annotator.models import WorkerHeartbeat; "
        "print(json.dumps(list(WorkerHeartbeat.objects.values_list('queues', flat=True))))"
    ) == ["celery"]

    assert demo_stack.stop() == 0
    assert running(demo_stack.pgdata) is None  # the embedded server went with its last user
    assert "Stopped the web server and worker" in demo_stack.log_path.read_text()

    demo_stack.start(demo=True)
    screen = demo_stack.log_path.read_text().rsplit("Vigia is running at", 1)[1]
    assert "(passwords as set on the first run)" in screen
    assert "model version #" in screen and "serving" in screen
    assert demo_stack.shell(
        "import json; from models_zoo.models import TrainingRun; from annotator.models import Project; "
        "print(json.dumps([Project.objects.count(), TrainingRun.objects.count()]))"
    ) == [1, 1]
