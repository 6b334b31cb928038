"""Which Celery queue a backend's work goes to: transformer backends go to the GPU queue when
one is configured (VIGIA_GPU_QUEUE), everything else to the default queue."""

from __future__ import annotations

from django.conf import settings

GPU_BACKENDS = frozenset({"transformer_classifier", "span_tagger", "attention_bilstm", "clip_fusion"})


def queue_for(backend_name: str) -> str:
    """Transformer backends go to the GPU queue when one is configured."""
    if backend_name in GPU_BACKENDS and settings.VIGIA_GPU_QUEUE:
        return settings.VIGIA_GPU_QUEUE
    return settings.CELERY_TASK_DEFAULT_QUEUE
