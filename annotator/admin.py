from __future__ import annotations

from django.contrib import admin

from annotator.models import (
    Annotation,
    Assignment,
    Example,
    ImportJob,
    Label,
    Membership,
    Project,
)


class LabelInline(admin.TabularInline):
    model = Label
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "task_type", "overlap", "queue_strategy", "created_at"]
    list_filter = ["task_type"]
    search_fields = ["name"]
    inlines = [LabelInline, MembershipInline]


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "name", "shortcut", "color"]
    list_filter = ["project"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "user", "role"]
    list_filter = ["role", "project"]


@admin.register(Example)
class ExampleAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "external_id", "short_text", "assigned_count"]
    list_filter = ["project"]
    search_fields = ["text", "external_id"]
    readonly_fields = ["content_hash", "queue_key"]
    list_select_related = ["project"]
    show_full_result_count = False

    @admin.display(description="text")
    def short_text(self, obj: Example) -> str:
        return obj.text[:80]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["id", "example_id", "user", "source", "labels", "updated_at"]
    list_filter = ["source"]
    raw_id_fields = ["example"]
    show_full_result_count = False


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "example_id", "user", "status", "updated_at"]
    list_filter = ["status"]
    raw_id_fields = ["example"]
    show_full_result_count = False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "original_name", "format", "status", "imported", "duplicates"]
    list_filter = ["status"]
