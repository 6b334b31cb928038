from __future__ import annotations

from django.apps import AppConfig


class ModelsZooConfig(AppConfig):
    name = "models_zoo"
    verbose_name = "Models"

    def ready(self) -> None:
        # Connects the retrain policy's post_save receiver on annotator.Annotation.
        # What annotator asks of the models and the loop, without importing them (config.hooks).
        from models_zoo import (
            hooks,
            signals,  # noqa: F401
        )

        # The active-learning queue strategies register into annotator's strategy registry.
        from models_zoo.active_learning import queue_strategies  # noqa: F401

        hooks.install()

        # The ONNX encoder engine (no Django) learns where exports live: the shared storage.
        from models_zoo.services.encoder_exports import install

        install()
