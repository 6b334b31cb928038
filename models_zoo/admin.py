from __future__ import annotations

from django.contrib import admin

from models_zoo.models import ModelVersion, Prediction, TrainingRun


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "backend", "state", "progress", "created_at", "finished_at"]
    list_filter = ["state", "backend"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "backend", "is_current", "created_at"]
    list_filter = ["backend", "is_current"]


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ["id", "example_id", "model_version", "labels", "created_at"]
    raw_id_fields = ["example"]
    show_full_result_count = False
