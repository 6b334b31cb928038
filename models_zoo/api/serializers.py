"""Serializers of training runs, model versions and backends (REST + OpenAPI)."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from models_zoo.models import ModelVersion, TrainingRun
from models_zoo.services.versions import snapshot_summary

LOG_TAIL_LINES = 50


class TrainRequestSerializer(serializers.Serializer):
    backend = serializers.CharField(max_length=64)
    config = serializers.JSONField(required=False, default=dict)


class TrainResponseSerializer(serializers.Serializer):
    run = serializers.IntegerField()


class TrainingRunSerializer(serializers.ModelSerializer):
    eta = serializers.FloatField(source="eta_seconds", allow_null=True, read_only=True)
    log_tail = serializers.SerializerMethodField()
    model_version = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRun
        fields = (
            "id", "project", "backend", "config", "state", "progress", "epoch", "loss", "eta",
            "log_tail", "error", "cancel_requested", "model_version", "created_at", "started_at",
            "finished_at", "heartbeat_at",
        )
        read_only_fields = fields

    def get_log_tail(self, run: TrainingRun) -> list[str]:
        return run.log.splitlines()[-LOG_TAIL_LINES:]

    def get_model_version(self, run: TrainingRun) -> int | None:
        # Reverse one-to-one: list views select_related("model_version") to avoid N queries.
        try:
            return run.model_version.pk
        except ModelVersion.DoesNotExist:
            return None


class ModelVersionSerializer(serializers.ModelSerializer):
    data_snapshot_summary = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields: tuple[str, ...] = (
            "id", "project", "run", "backend", "config", "labels", "thresholds", "metrics",
            "is_current", "created_at", "promoted_at", "promotion_note", "data_snapshot_summary",
        )
        read_only_fields = fields

    def get_data_snapshot_summary(self, version: ModelVersion) -> dict[str, Any]:
        return snapshot_summary(version.data_snapshot or {})


class ModelVersionDetailSerializer(ModelVersionSerializer):
    class Meta(ModelVersionSerializer.Meta):
        fields = (*ModelVersionSerializer.Meta.fields, "data_snapshot", "artifact_dir")
        read_only_fields = fields


class BackendInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    task_types = serializers.ListField(child=serializers.CharField())
    gpu_queue = serializers.BooleanField(help_text="trained on VIGIA_GPU_QUEUE when it is set")
    config_schema = serializers.JSONField(allow_null=True)
    error = serializers.CharField(required=False, help_text="why the backend cannot load here")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField(), required=False)
