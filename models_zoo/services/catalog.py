"""What each registered backend is: task types, config JSON schema, and its queue."""
from __future__ import annotations

from typing import Any

from models_zoo import registry
from models_zoo.services.queues import GPU_BACKENDS


def backend_catalog() -> list[dict[str, Any]]:
    """One entry per registered backend; one that cannot be imported here says why."""
    out: list[dict[str, Any]] = []
    for name in registry.available():
        entry: dict[str, Any] = {"name": name, "gpu_queue": name in GPU_BACKENDS}
        try:
            cls = registry.get_backend(name)
        except ImportError as exc:
            out.append({**entry, "task_types": [], "config_schema": None, "error": str(exc)})
            continue
        out.append({
            **entry,
            "task_types": list(cls.task_types),
            "config_schema": cls.Config.model_json_schema(),
        })
    return out


def backends_for(task_type: str) -> list[dict[str, Any]]:
    return [b for b in backend_catalog() if task_type in b["task_types"]]
