"""Serializers of the project-side REST API (projects, labels, members, examples, annotations).

Rules live in the services (`annotator.services.*`); these classes parse JSON into primitive
values and render rows. Input and output serializers are split where they differ, so the
OpenAPI schema tells clients exactly what to send and what comes back.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotator.media import example_image_url
from annotator.models import (
    Annotation,
    Example,
    Label,
    Membership,
    Normalization,
    Project,
    Role,
    TaskType,
)
from annotator.services.projects import PROJECT_FIELDS, project_counts

# Ids and offsets: a number past these is refused with a 400 naming the field, not sent to
# PostgreSQL (which answers "integer out of range", a 500).
MAX_BIGINT = 2**63 - 1
MAX_INT = 2**31 - 1


def model_bounds(model: type, name: str, **extra: Any) -> dict[str, Any]:
    """min_value/max_value of an integer model field, for the serializer field that feeds it."""
    from django.db import connection

    low, high = connection.ops.integer_field_range(model._meta.get_field(name).get_internal_type())
    bounds = {"min_value": low, "max_value": high}
    bounds.update(extra)
    if "min_value" in extra and low is not None:
        bounds["min_value"] = max(low, extra["min_value"])
    return bounds

# --- labels ----------------------------------------------------------------------------------


class LabelSerializer(serializers.ModelSerializer):
    shortcut = serializers.CharField(
        max_length=1, required=False, allow_blank=True, help_text="One key; assigned if omitted."
    )
    color = serializers.CharField(
        max_length=7, required=False, allow_blank=True, help_text="#rrggbb; assigned if omitted."
    )
    order = serializers.IntegerField(required=False, **model_bounds(Label, "order"))

    class Meta:
        model = Label
        fields = ["id", "name", "shortcut", "color", "order"]


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "description": "label name"},
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "shortcut": {"type": "string", "maxLength": 1},
                    "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
                },
                "required": ["name"],
            },
        ]
    }
)
class LabelSpecField(serializers.JSONField):
    """A label given by name (`"HS"`) or in full (`{"name", "shortcut", "color"}`); the
    project service validates it."""


# --- projects --------------------------------------------------------------------------------

# The project settings the service accepts.
SETTINGS_FIELDS = list(PROJECT_FIELDS)


class ProjectCountsSerializer(serializers.Serializer):
    examples = serializers.IntegerField()
    annotated_examples = serializers.IntegerField()
    annotations = serializers.IntegerField()


class ProjectSerializer(serializers.ModelSerializer):
    labels = LabelSerializer(many=True, read_only=True)
    role = serializers.SerializerMethodField(help_text="The caller's role in the project.")
    counts = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "task_type",
            *SETTINGS_FIELDS,
            "labels",
            "role",
            "counts",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_role(self, project: Project) -> str | None:
        role = getattr(project, "current_role", None)
        if role is None:
            role = self.context.get("roles", {}).get(project.pk)
        return role

    @extend_schema_field(ProjectCountsSerializer)
    def get_counts(self, project: Project) -> dict[str, int]:
        counts = self.context.get("counts") or {}
        if project.pk in counts:
            return counts[project.pk]
        request = self.context.get("request")
        own_only = [project.pk] if self.get_role(project) == Role.ANNOTATOR else []
        user_id = getattr(getattr(request, "user", None), "pk", None)
        return project_counts([project.pk], own_only=own_only, user_id=user_id)[project.pk]


class _ObjectSettings:
    """threshold_targets / validation_split must be JSON objects: a form field's "null" parses
    to None past JSONField's allow_null check and would reach a NOT NULL column (a 500)."""

    def validate_threshold_targets(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be an object {label: target}.")
        return value

    def validate_validation_split(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be an object, e.g. {\"kind\": \"random\"}.")
        return value


class ProjectSettingsSerializer(_ObjectSettings, serializers.Serializer):
    """The settings both create and update take; the project service validates their rules
    (annotator.services.projects / project_settings), so page and REST refuse the same things."""

    description = serializers.CharField(required=False, allow_blank=True)
    guidelines = serializers.CharField(required=False, allow_blank=True)
    normalization = serializers.ChoiceField(
        choices=Normalization.choices, required=False, help_text="Applies to new examples."
    )
    overlap = serializers.IntegerField(min_value=1, max_value=100, required=False)
    allow_overlapping_spans = serializers.BooleanField(required=False)
    queue_strategy = serializers.CharField(max_length=32, required=False)
    queue_label = serializers.CharField(max_length=100, required=False, allow_blank=True)
    queue_sample = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1,
        help_text='The sample served by queue strategy "sample".',
    )
    # No min_value here: the service owns the rule (>= 1, 0 or null = off) and its message.
    retrain_every = serializers.IntegerField(
        required=False, allow_null=True, max_value=model_bounds(Project, "retrain_every")["max_value"],
        help_text="Retrain after every N new human annotations; null or 0: off.",
    )
    retrain_backend = serializers.CharField(
        max_length=64, required=False, allow_blank=True,
        help_text="A backend that trains this project's task type.",
    )
    auto_promote = serializers.BooleanField(required=False)
    threshold_objective = serializers.CharField(
        max_length=32, required=False, allow_blank=True,
        help_text="What each label's threshold optimises on validation: f1_positive, f1_macro, "
        "target_recall, target_precision or none (0.5); empty: the backend's default. A run's "
        "config overrides it.",
    )
    threshold_targets = serializers.JSONField(
        required=False, help_text='target_recall / target_precision: {label: target in (0, 1]}; a label without one: 0.9.'
    )
    validation_split = serializers.JSONField(
        required=False,
        help_text='{"kind": "random", "fraction": 0.2} (default), {"kind": "group", "field": "event", '
        '"values": [...]} or {"kind": "date", "before": "YYYY-MM-DD", "field": "created_at"}.',
    )


    queue_query = serializers.JSONField(
        required=False,
        help_text='Strategy "query" (cold start): one description of the class or a list of them '
        '(at most 20); the queue serves the examples nearest to them until a model is current.',
    )
    queue_then = serializers.CharField(
        max_length=32, required=False, allow_blank=True,
        help_text='The strategy "query" hands over to once the project has a current model '
        "(default margin).",
    )
    transfer_model_version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1,
        help_text="Another project's model version (you must be able to read that project; same "
        "label names): until this project has a current model, its predictions drive "
        "likely_positive and the suggestions. null: none.",
    )


class ProjectCreateSerializer(ProjectSettingsSerializer):
    name = serializers.CharField(max_length=200)
    task_type = serializers.ChoiceField(choices=TaskType.choices)
    labels = serializers.ListField(
        child=LabelSpecField(),
        help_text='Names ["HS", ...] or objects [{"name", "shortcut", "color"}]; '
        "binary projects take exactly one.",
    )


class ProjectUpdateSerializer(ProjectSettingsSerializer):
    """Settings an admin may change; labels have their own endpoint."""

    name = serializers.CharField(max_length=200, required=False)
    task_type = serializers.ChoiceField(
        choices=TaskType.choices, required=False, help_text="Only while nothing is annotated."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "labels" in self.initial_data:
            raise serializers.ValidationError(
                {"labels": ["change labels through /projects/{id}/labels/."]}
            )
        return attrs


# --- members ---------------------------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "username", "role", "created_at"]
        read_only_fields = fields


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(required=False, help_text="Give username or user.")
    user = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_BIGINT, help_text="User id; give username or user."
    )
    role = serializers.ChoiceField(choices=Role.choices, default=Role.ANNOTATOR)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        User = get_user_model()
        if ("username" in attrs) == ("user" in attrs):
            raise serializers.ValidationError(
                {"username": ["give exactly one of username or user (an id)."]}
            )
        try:
            if "username" in attrs:
                attrs["user"] = User.objects.get(username=attrs.pop("username"), is_active=True)
            else:
                attrs["user"] = User.objects.get(pk=attrs["user"], is_active=True)
        except User.DoesNotExist:
            field = "user" if isinstance(attrs.get("user"), int) else "username"
            raise serializers.ValidationError(
                {field: ["no active user with that name or id."]}
            ) from None
        return attrs


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


# --- annotations -----------------------------------------------------------------------------


class SpanSerializer(serializers.Serializer):
    start = serializers.IntegerField(
        min_value=0, max_value=MAX_INT, help_text="Character offset into the raw text."
    )
    end = serializers.IntegerField(min_value=0, max_value=MAX_INT, help_text="Exclusive end offset.")
    label = serializers.CharField()


class AnnotationSerializer(serializers.ModelSerializer):
    username = serializers.SerializerMethodField()
    spans = SpanSerializer(many=True, read_only=True)
    labels = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Annotation
        fields = [
            "id",
            "example",
            "user",
            "username",
            "labels",
            "spans",
            "source",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_username(self, annotation: Annotation) -> str | None:
        return annotation.user.username if annotation.user_id else None


class AnnotationInputSerializer(serializers.Serializer):
    labels = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_empty=True,
        help_text="Classification tasks. binary: [] rejects, [label] accepts.",
    )
    spans = SpanSerializer(many=True, required=False, help_text="Spans task.")

    @classmethod
    def decision(cls, data: Any) -> dict[str, Any]:
        """The validated request body as the annotation services' `labels=` / `spans=` keywords."""
        parsed = cls(data=data)
        parsed.is_valid(raise_exception=True)
        return {"labels": parsed.validated_data.get("labels"),
                "spans": [dict(span) for span in parsed.validated_data.get("spans", [])]}


# --- examples --------------------------------------------------------------------------------


class ExampleSerializer(serializers.ModelSerializer):
    annotated = serializers.SerializerMethodField()
    annotation_count = serializers.SerializerMethodField()
    my_annotation = serializers.SerializerMethodField(
        help_text="The caller's own annotation, or null."
    )
    image = serializers.SerializerMethodField(
        help_text="URL of the example's image (members of the project only), or null."
    )
    thumbnail = serializers.SerializerMethodField(
        help_text="URL of a thumbnail of the image (at most 256 px; members only), or null."
    )

    class Meta:
        model = Example
        fields = [
            "id",
            "text",
            "normalized_text",
            "external_id",
            "meta",
            "content_hash",
            "image",
            "image_width",
            "image_height",
            "thumbnail",
            "created_at",
            "annotated",
            "annotation_count",
            "my_annotation",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_image(self, example: Example) -> str | None:
        if not example.image:
            return None
        url = example_image_url(example)
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_thumbnail(self, example: Example) -> str | None:
        image = self.get_image(example)
        return None if image is None else image.removesuffix("/image") + "/thumbnail"

    def get_annotation_count(self, example: Example) -> int:
        if hasattr(example, "n_annotations"):
            return example.n_annotations
        return example.annotations.count()

    def get_annotated(self, example: Example) -> bool:
        return self.get_annotation_count(example) > 0

    @extend_schema_field(AnnotationSerializer(allow_null=True))
    def get_my_annotation(self, example: Example) -> dict | None:
        mine = getattr(example, "mine", None)
        if mine is None:
            request = self.context.get("request")
            user = getattr(request, "user", None)
            mine = list(example.annotations.filter(user=user)) if user else []
        return AnnotationSerializer(mine[0]).data if mine else None


class ExampleDetailSerializer(ExampleSerializer):
    annotations = serializers.SerializerMethodField(
        help_text="Annotations the caller may see (admins and viewers: all; annotators: their "
        "own and imported ones)."
    )

    class Meta(ExampleSerializer.Meta):
        fields = [*ExampleSerializer.Meta.fields, "annotations"]
        read_only_fields = fields

    @extend_schema_field(AnnotationSerializer(many=True))
    def get_annotations(self, example: Example) -> list[dict]:
        rows = self.context["visible_annotations"]
        return AnnotationSerializer(rows, many=True).data


class ExampleWriteSerializer(serializers.Serializer):
    text = serializers.CharField(
        trim_whitespace=False, required=False, allow_blank=True,
        help_text="Required unless an image is sent (multipart); an example may be image-only.",
    )
    image = serializers.FileField(
        required=False, write_only=True,
        help_text="multipart/form-data only: PNG, JPEG, GIF, WebP or BMP, at most "
        "VIGIA_MAX_IMAGE_BYTES bytes and VIGIA_MAX_IMAGE_PIXELS pixels.",
    )
    external_id = serializers.CharField(max_length=200, required=False, allow_blank=True)
    meta = serializers.DictField(required=False, help_text="created_at, lang, author, ...")


class _ImageOrNothingField(serializers.FileField):
    """An uploaded image, or `""` / null for none (a multipart form cannot send null)."""

    def to_internal_value(self, data: Any) -> Any:
        if data == "":
            return None
        return super().to_internal_value(data)


class ExampleEditSerializer(ExampleWriteSerializer):
    """PATCH of one example: as POST, and the image may be replaced or removed."""

    image = _ImageOrNothingField(
        required=False, allow_null=True, write_only=True,
        help_text="multipart/form-data: a new image replaces the example's image (checked as on "
        "POST; the old image and its thumbnail are removed once the change commits). `\"\"` "
        "(multipart or JSON) or JSON null removes the image; an example without text cannot "
        "lose its image.",
    )


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class DuplicateExampleSerializer(serializers.Serializer):
    detail = serializers.CharField()
    existing_id = serializers.IntegerField()


# --- me --------------------------------------------------------------------------------------


class MyProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    task_type = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    # A user may have no e-mail address: "" is a valid answer, so no `format: email` here.
    email = serializers.CharField(allow_blank=True, help_text="The e-mail address, or empty.")
    is_superuser = serializers.BooleanField()
    projects = MyProjectSerializer(many=True)
