"""The annotate page: one example at a time, htmx-enhanced, plain forms without JavaScript.

Every response for an htmx request is the `workspace` partial (card, history, progress); plain
requests get the full page, and successful POSTs redirect (post/redirect/get).
"""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from annotator.models import Annotation, Assignment, Example, Project, Role
from annotator.permissions import get_project_for
from annotator.services import progress, queue
from annotator.services.annotations import (
    AnnotationInvalid,
    save_annotation,
    undo_last_decision,
)
from annotator.web.annotate_context import annotate_context
from annotator.web.forms import parse_decision


def _render(request: HttpRequest, ctx: dict, status: int = 200) -> HttpResponse:
    template = (
        "annotator/partials/workspace.html" if request.htmx else "annotator/annotate.html"
    )
    response = render(request, template, ctx, status=status)
    if request.htmx and ctx.get("example") is not None:
        # Keep the address bar honest: the edit URL while editing, the queue URL otherwise.
        if ctx.get("editing"):
            url = reverse("annotate-example", args=[ctx["project"].pk, ctx["example"].pk])
        else:
            url = reverse("annotate", args=[ctx["project"].pk])
        response["HX-Push-Url"] = url
    return response


def _own_example(project: Project, user, example_id: int) -> Example:
    """An example of `project` that was handed to `user` (or that they annotated); else 404.

    One query.
    """
    example = (
        Example.objects.filter(pk=example_id, project=project)
        .annotate(
            handed=Exists(Assignment.objects.filter(example=OuterRef("pk"), user=user)),
            annotated=Exists(Annotation.objects.filter(example=OuterRef("pk"), user=user)),
        )
        .first()
    )
    if example is None or not (example.handed or example.annotated):
        raise Http404("This example was not handed to you.")
    example.project = project
    return example


@login_required
def annotate(request: HttpRequest, project_id: int) -> HttpResponse:
    """The queue: shows the next example for this annotator."""
    project = get_project_for(request.user, project_id, Role.ANNOTATOR)
    example = queue.next_example(project, request.user)
    return _render(request, annotate_context(project, request.user, example))


@login_required
@require_http_methods(["GET", "POST"])
def annotate_example(request: HttpRequest, project_id: int, example_id: int) -> HttpResponse:
    """GET: edit a decision (from the history). POST: save a decision, then show the next."""
    project = get_project_for(request.user, project_id, Role.ANNOTATOR)
    example = _own_example(project, request.user, example_id)
    if request.method == "GET":
        return _render(request, annotate_context(project, request.user, example, editing=True))
    try:
        decision = parse_decision(project, request.POST)
        # The progress line moves by what this decision changed (nothing when it is refused).
        with progress.tracking_decision(project, example, request.user):
            if decision.action == "skip":
                queue.skip(project, request.user, example)
            else:
                # Marks the user's assignment done in the same transaction.
                save_annotation(
                    user=request.user, example=example, labels=decision.labels, spans=decision.spans
                )
    except AnnotationInvalid as exc:
        ctx = annotate_context(
            project,
            request.user,
            example,
            editing=example.annotated,
            error=f"{exc.field}: {exc.message}",
            posted_labels=request.POST.getlist("labels"),
        )
        # 422: htmx is configured (annotate.html) to swap it so the error shows in place.
        return _render(request, ctx, status=422)
    if not request.htmx:
        return redirect("annotate", project_id=project.pk)
    nxt = queue.next_example(project, request.user)
    return _render(request, annotate_context(project, request.user, nxt))


@login_required
@require_POST
def undo(request: HttpRequest, project_id: int) -> HttpResponse:
    """Undo the latest decision (annotation or skip) and bring that example back."""
    project = get_project_for(request.user, project_id, Role.ANNOTATOR)
    undo_last_decision(project, request.user)
    if not request.htmx:
        return redirect("annotate", project_id=project.pk)
    example = queue.next_example(project, request.user)
    return _render(request, annotate_context(project, request.user, example))
