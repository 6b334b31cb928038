"""Browser pages, mounted at "/" by config/urls.py."""
from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from annotator.web import (
    annotate_views,
    import_preview_views,
    project_setup_views,
    sample_views,
    views,
)

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.project_list, name="project-list"),
    path("projects/<int:project_id>/", views.project_detail, name="project-detail"),
    path("projects/<int:project_id>/import/", views.project_import, name="project-import"),
    path(
        "projects/<int:project_id>/imports/<int:job_id>/",
        views.import_job_status,
        name="import-job",
    ),
    path("projects/<int:project_id>/annotate/", annotate_views.annotate, name="annotate"),
    path(
        "projects/<int:project_id>/annotate/undo/", annotate_views.undo, name="annotate-undo"
    ),
    path(
        "projects/<int:project_id>/annotate/<int:example_id>/",
        annotate_views.annotate_example,
        name="annotate-example",
    ),
    path("projects/<int:project_id>/samples/", sample_views.samples_page, name="samples"),
    path("projects/<int:project_id>/samples/preview/", sample_views.sample_preview, name="sample-preview"),
    path("projects/<int:project_id>/samples/draw/", sample_views.sample_draw, name="sample-draw"),
    path(
        "projects/<int:project_id>/samples/<int:sample_id>/",
        sample_views.sample_detail,
        name="sample-detail",
    ),
    path(
        "projects/<int:project_id>/samples/<int:sample_id>/queue/",
        sample_views.sample_queue,
        name="sample-queue",
    ),
    path("", include("annotator.web.embedding_urls")),
    # Project setup in the browser (issue 13).
    path("projects/new/", project_setup_views.project_new, name="project-new"),
    path("projects/<int:project_id>/settings/", project_setup_views.project_edit, name="project-edit"),
    path("projects/<int:project_id>/members/", project_setup_views.project_members, name="project-members"),
    path("projects/<int:project_id>/delete/", project_setup_views.project_delete, name="project-delete"),
    path("projects/<int:project_id>/import/preview/", import_preview_views.import_preview,
         name="project-import-preview"),
    path("favicon.ico", RedirectView.as_view(url=static("annotator/favicon.svg"), permanent=True)),
    path("", include("annotator.web.agreement_urls")),
]
