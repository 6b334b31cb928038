"""The Celery app (`celery -A config worker`).

Tasks live in the top-level `tasks` package; every module in it is imported by the worker, so a
new task module needs no registration here.
"""
from __future__ import annotations

import os
import pkgutil
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("vigia")
app.config_from_object("django.conf:settings", namespace="CELERY")

_TASKS_DIR = Path(__file__).resolve().parent.parent / "tasks"
app.conf.imports = tuple(
    f"tasks.{module.name}" for module in pkgutil.iter_modules([str(_TASKS_DIR)])
)
