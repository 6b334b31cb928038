from __future__ import annotations

from django.apps import AppConfig


class ModelsZooConfig(AppConfig):
    name = "models_zoo"
    verbose_name = "Models"

    def ready(self) -> None:
        # Connects the retrain policy's post_save receiver on annotator.Annotation.
        from models_zoo import signals  # noqa: F401

        # The ONNX encoder engine (no Django) learns where exports live: the shared storage.
        from models_zoo.services.encoder_exports import install

        install()
