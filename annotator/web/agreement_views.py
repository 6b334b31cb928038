"""Agreement page and the adjudication of disagreements (project admins).

Thin: the figures come from annotator.services.agreement.agreement_report (the same dict
`GET /api/v1/projects/{id}/agreement` returns) and decisions go through
annotator.services.adjudication.adjudicate (the same as `POST .../adjudicate`).
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from annotator.models import Example, Project, Role, TaskType
from annotator.permissions import get_project_for
from annotator.services.adjudication import (
    adjudicate,
    disagreement_for,
    disagreement_ids,
    next_disagreement,
)
from annotator.services.agreement import agreement_report
from annotator.services.annotations import AnnotationInvalid
from annotator.web.forms import _parse_spans


@login_required
def agreement_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    report = agreement_report(project)
    return render(
        request,
        "annotator/agreement.html",
        {
            "project": project,
            "report": report,
            "measure_name": "F1" if report["measure"] == "f1" else "kappa",
            "labels": list(report["labels"].items()),
            "open_disagreements": len(disagreement_ids(project)),
        },
    )


@login_required
def adjudicate_next(request: HttpRequest, project_id: int) -> HttpResponse:
    """The first open disagreement, or a page saying there are none."""
    project = get_project_for(request.user, project_id, Role.ADMIN)
    after = request.GET.get("after")
    eid = next_disagreement(project, int(after) if after and after.isdigit() else None)
    if eid is None:
        return render(request, "annotator/adjudicate.html", {"project": project, "d": None})
    return redirect("adjudicate-example", project_id=project.pk, example_id=eid)


def _posted(project: Project, post: Any, votes: list[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    take = post.get("take")
    if take:
        if not take.isdigit() or not 1 <= int(take) <= len(votes):
            raise AnnotationInvalid(f"take: there is no vote number {take}.", "take")
        vote = votes[int(take) - 1]
        return vote.labels, vote.spans
    if project.task_type == TaskType.SPANS:
        return [], _parse_spans(post)
    if project.task_type == TaskType.BINARY:
        decision = post.get("decision")
        if decision not in ("accept", "reject"):
            raise AnnotationInvalid("decision: choose accept or reject.", "decision")
        first = project.labels.first()
        return ([first.name] if decision == "accept" and first else []), []
    return [n for n in post.getlist("labels") if n], []


@login_required
@require_http_methods(["GET", "POST"])
def adjudicate_example(request: HttpRequest, project_id: int, example_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    example = get_object_or_404(Example, project=project, pk=example_id)
    example.project = project
    d = disagreement_for(project, example)
    if not d.votes:
        raise Http404("Nobody annotated this example yet.")
    error = None
    if request.method == "POST":
        try:
            labels, spans = _posted(project, request.POST, d.votes)
            adjudicate(user=request.user, example=example, labels=labels, spans=spans)
        except AnnotationInvalid as exc:
            error = f"{exc.field}: {exc.message}"
        else:
            return redirect(f"{reverse('adjudicate', args=[project.pk])}?after={example.pk}")
    final = d.adjudicated
    chosen = set(final.labels if final else d.majority_labels)
    spans = final.spans if final else d.majority_spans
    colors = {lb.name: lb.color for lb in project.labels.all()}
    ctx = {
        "project": project,
        "d": d,
        "error": error,
        "is_spans": project.task_type == TaskType.SPANS,
        "is_binary": project.task_type == TaskType.BINARY,
        "is_single": project.task_type == TaskType.SINGLELABEL,
        "votes": [
            {
                "n": i + 1,
                "vote": v,
                "labels": [(name, colors.get(name, "#9ca3af")) for name in v.labels],
                "spans": [
                    (example.text[s["start"]:s["end"]], s["label"], colors.get(s["label"], "#9ca3af"), s)
                    for s in v.spans
                ],
            }
            for i, v in enumerate(d.votes)
        ],
        "choices": [
            {"name": lb.name, "color": lb.color, "shortcut": lb.shortcut, "checked": lb.name in chosen}
            for lb in project.labels.all()
        ],
        "binary_accept": bool(chosen),
        "spans_text": ", ".join(f"{s['start']}:{s['end']}:{s['label']}" for s in spans),
        "remaining": len(disagreement_ids(project)),
    }
    return render(request, "annotator/adjudicate.html", ctx, status=422 if error else 200)
