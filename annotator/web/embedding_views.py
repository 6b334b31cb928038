"""Embedding store pages (project admins): the sets with live progress, "compute embeddings",
free-text semantic search, and an example page with "more like this"."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from annotator.models import EmbeddingState, Example, Role
from annotator.permissions import get_project_for
from annotator.services import similarity
from annotator.services.embeddings import ready_embedding_set, request_embedding_set
from annotator.services.projects import ProjectRuleError
from config import hooks

HTMX_STOP_POLLING = 286
ACTIVE = (EmbeddingState.QUEUED, EmbeddingState.RUNNING)


def page_encoder(project) -> str | None:
    """The encoder the pages search with: the default one when it is ready, else any ready set's."""
    if ready_embedding_set(project) is not None:
        return None
    for embedding_set in project.embedding_sets.order_by("pk"):
        if ready_embedding_set(project, embedding_set.encoder) is not None:
            return embedding_set.encoder
    return None


def _sets_context(project) -> dict:
    sets = list(project.embedding_sets.order_by("pk"))
    return {"project": project, "sets": sets, "poll": any(s.state in ACTIVE for s in sets)}


@login_required
def embeddings_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """The sets, the compute form and the semantic search box (GET ?q=...&k=...)."""
    project = get_project_for(request.user, project_id, Role.ADMIN)
    ctx = _sets_context(project)
    query = request.GET.get("q", "")
    ctx.update(query=query, k=request.GET.get("k", "10"), results=None, search_error="")
    encoder = page_encoder(project)
    ctx["ready"] = ready_embedding_set(project, encoder) is not None
    ctx["search_encoder"] = encoder or "default"
    if query:
        try:
            k = similarity.parse_k(request.GET.get("k"))
            text = similarity.parse_query_text(query)
            ctx["results"] = similarity.semantic_search(project, text, k, encoder)
        except ProjectRuleError as exc:
            ctx["search_error"] = f"{exc.field}: {exc.message}" if not exc.conflict else exc.message
    return render(request, "annotator/embeddings.html", ctx, status=400 if ctx["search_error"] else 200)


@login_required
def embedding_sets_partial(request: HttpRequest, project_id: int) -> HttpResponse:
    """The sets table; htmx polls it while a set is queued or running."""
    project = get_project_for(request.user, project_id, Role.ADMIN)
    ctx = _sets_context(project)
    status = HTMX_STOP_POLLING if request.htmx and not ctx["poll"] else 200
    return render(request, "annotator/partials/embedding_sets.html", ctx, status=status)


@login_required
@require_POST
def embeddings_compute(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    try:
        embedding_set = request_embedding_set(project, request.POST.get("encoder") or None)
    except ProjectRuleError as exc:
        messages.error(request, f"{exc.field}: {exc.message}")
    else:
        messages.success(request, f"Computing embeddings ({embedding_set.encoder}): "
                                  f"{embedding_set.chunks.exclude(state='ready').count()} chunk(s) to embed.")
    return redirect("embeddings", project_id=project.pk)


@login_required
def example_page(request: HttpRequest, project_id: int, example_id: int) -> HttpResponse:
    """One example, its annotations and the examples most like it."""
    project = get_project_for(request.user, project_id, Role.ADMIN)
    example = get_object_or_404(Example, pk=example_id, project=project)
    similar, error = None, ""
    try:
        k = similarity.parse_k(request.GET.get("k"))
        similar = similarity.similar_examples(project, example, k, page_encoder(project))
    except ProjectRuleError as exc:
        error = exc.message
    annotations = list(example.annotations.select_related("user").order_by("pk"))
    return render(request, "annotator/example.html", {
        "project": project, "example": example, "similar": similar, "similar_error": error,
        "annotations": annotations, "predictions": hooks.call("example_predictions", example),
        "meta_items": sorted(example.meta.items()) if isinstance(example.meta, dict) else [],
    })
