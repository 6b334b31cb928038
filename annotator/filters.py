"""django-filter FilterSets for the REST API's list endpoints."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from rest_framework.exceptions import ValidationError

from annotator.api.permissions import project_for_view
from annotator.models import Annotation, AnnotationSource, Example, Project, TaskType
from annotator.visibility import visible_annotations


def _has_label(annotations: QuerySet[Annotation], name: str) -> QuerySet[Annotation]:
    """Annotations carrying label `name` as a document label or in a span."""
    return annotations.filter(Q(labels__contains=[name]) | Q(spans__contains=[{"label": name}]))



class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time compared in UTC. Python takes offsets up to +/-23:59, PostgreSQL
    only up to +/-15:59 ("time zone displacement out of range", a 500): the value reaches the
    database as UTC, and one that cannot be (an offset past year 1 or 9999) is a 400 naming
    the parameter."""

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except (OverflowError, ValueError):
                param = "created_after" if self.lookup_expr == "gte" else "created_before"
                raise ValidationError(
                    {param: ["a date-time out of range once converted to UTC"]}) from None
        return super().filter(qs, value)

class ExampleFilter(django_filters.FilterSet):
    annotated = django_filters.BooleanFilter(
        method="filter_annotated",
        label="Has at least one annotation the caller may see (annotators: their own or imported).",
    )
    annotated_by_me = django_filters.BooleanFilter(
        method="filter_annotated_by_me", label="Has an annotation by the caller."
    )
    search = django_filters.CharFilter(
        method="filter_search", label="Case-insensitive substring of the raw or normalized text."
    )
    external_id = django_filters.CharFilter(field_name="external_id", lookup_expr="exact")
    label = django_filters.CharFilter(
        method="filter_label", label="Has an annotation with this label (document or span)."
    )
    source = django_filters.ChoiceFilter(
        choices=AnnotationSource.choices,
        method="filter_source",
        label="Has an annotation from this source (human, model, import).",
    )
    has_image = django_filters.BooleanFilter(
        method="filter_has_image", label="Has an image (true) or has none (false)."
    )
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    ordering = django_filters.OrderingFilter(fields=(("id", "id"), ("created_at", "created_at")))

    class Meta:
        model = Example
        fields = ["external_id"]

    def _annotations(self) -> QuerySet[Annotation]:
        """The example's annotations the caller may see (annotator.visibility): an annotator's
        `label`, `annotated` and `source` filters look at their own and imported ones only."""
        rows = Annotation.objects.filter(example=OuterRef("pk"))
        context = getattr(self.request, "parser_context", None) or {}
        view = context.get("view")
        if view is None or self.request is None:
            return rows.filter(user__isnull=True)  # no caller known: only what everyone sees

        return rows.filter(visible_annotations(project_for_view(self.request, view), self.request.user))

    def filter_has_image(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.exclude(image="") if value else queryset.filter(image="")

    def filter_annotated(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        exists = Exists(self._annotations())
        return queryset.filter(exists if value else ~exists)

    def filter_annotated_by_me(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        exists = Exists(self._annotations().filter(user=self.request.user))
        return queryset.filter(exists if value else ~exists)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(Q(text__icontains=value) | Q(normalized_text__icontains=value))

    def filter_label(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(Exists(_has_label(self._annotations(), value)))

    def filter_source(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(Exists(self._annotations().filter(source=value)))


class ProjectFilter(django_filters.FilterSet):
    task_type = django_filters.ChoiceFilter(choices=TaskType.choices)
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Project
        fields = ["task_type"]
