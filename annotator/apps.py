from __future__ import annotations

from django.apps import AppConfig


class AnnotatorConfig(AppConfig):
    name = "annotator"
    verbose_name = "Annotation"

    def ready(self) -> None:
        # Keeps mined proposals' statuses in step with human decisions (post_save/post_delete).
        from annotator.mining import proposals  # noqa: F401
