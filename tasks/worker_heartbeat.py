"""Worker heartbeats (annotator/services/workers.py): the worker's main process records itself
every few seconds from a daemon thread, and deletes its row when it stops cleanly.

Not a task: signal receivers. Every module in `tasks/` is imported when a worker starts, which
connects them; in other processes they never fire.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Any

from celery.signals import worker_ready, worker_shutdown
from django.utils import timezone

logger = logging.getLogger(__name__)


class _Heartbeat(threading.Thread):
    def __init__(self, hostname: str, queues: list[str]) -> None:
        super().__init__(name="vigia-heartbeat", daemon=True)
        self.hostname = hostname
        self.queues = queues
        self.started_at = timezone.now()
        self.stopped = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from annotator.services.workers import HEARTBEAT_SECONDS, beat

        try:
            while not self.stopped.is_set():
                try:
                    beat(self.hostname, self.queues, os.getpid(), self.started_at)
                except Exception:  # a database blip must not end the beats for good
                    logger.warning("worker heartbeat failed", exc_info=True)
                    connection.close()
                self.stopped.wait(HEARTBEAT_SECONDS)
        finally:
            connection.close()

    def stop(self) -> None:
        from annotator.services.workers import forget

        self.stopped.set()
        self.join(timeout=5)
        try:
            forget(self.hostname)
        except Exception:
            logger.warning("could not remove the worker heartbeat", exc_info=True)


_running: dict[str, _Heartbeat] = {}


@worker_ready.connect(dispatch_uid="vigia.worker_heartbeat.start")
def start_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    hostname = getattr(sender, "hostname", None) or "worker"
    try:
        queues = sorted(q.name for q in sender.task_consumer.queues)
    except AttributeError:
        queues = [sender.app.conf.task_default_queue] if sender is not None else ["celery"]
    thread = _Heartbeat(hostname, queues)
    _running[hostname] = thread
    thread.start()


@worker_shutdown.connect(dispatch_uid="vigia.worker_heartbeat.stop")
def stop_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    for hostname in list(_running):
        _running.pop(hostname).stop()
