"""Sample pages: the design form with an htmx preview of the strata, the sample page with its
weighted estimates, and "annotate this sample" (sets the project's queue to it)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from annotator.models import Role, Sample
from annotator.permissions import get_project_for
from annotator.sampling import DesignError
from annotator.services import samples as sample_service
from annotator.services.projects import update_project

FORM_FIELDS = (
    "name",
    "field",
    "strata_by",
    "cuts",
    "take_all_above",
    "allocation",
    "sizing",
    "size",
    "target_cv",
    "expected_p",
    "seed",
)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def design_from_form(data: QueryDict) -> dict[str, Any]:
    """The REST design body from the form fields (same service, same errors)."""
    spec: dict[str, Any] = {"field": data.get("field", "").strip(), "name": data.get("name", "")}
    by, cuts = data.get("strata_by", "boundaries"), data.get("cuts", "")
    if by == "classes":
        spec["classes"] = _split(cuts)
    elif by == "quantiles":
        spec["quantiles"] = cuts.strip() or None
    else:
        try:
            spec["boundaries"] = [float(x) for x in _split(cuts)]
        except ValueError:
            raise DesignError(
                "boundaries must be numbers separated by commas", "boundaries"
            ) from None
    if data.get("take_all_above", "").strip() and by != "classes":
        spec["take_all_above"] = data["take_all_above"].strip()
    spec["allocation"] = data.get("allocation") or "proportional"
    if data.get("sizing") == "size":
        spec["size"] = data.get("size", "").strip() or None
        if spec["size"] is None:
            raise DesignError("give a size", "size")
    else:
        spec["target_cv"] = data.get("target_cv", "").strip() or None
    if data.get("expected_p", "").strip():
        spec["expected_p"] = data["expected_p"].strip()
    if data.get("seed", "").strip():
        spec["seed"] = data["seed"].strip()
    return spec


def _form_values(data: QueryDict | None) -> dict[str, str]:
    defaults = {
        "strata_by": "boundaries",
        "allocation": "proportional",
        "sizing": "target_cv",
        "target_cv": "0.05",
        "expected_p": "0.34",
        "seed": "0",
    }
    if data is None:
        return defaults
    return {**defaults, **{k: data.get(k, "") for k in FORM_FIELDS if k in data}}


def _page(request: HttpRequest, project, **extra: Any) -> HttpResponse:
    ctx = {
        "project": project,
        "is_admin": project.current_role == Role.ADMIN,
        "samples": list(project.samples.order_by("-id")),
        "values": _form_values(None),
        **extra,
    }
    return render(request, "annotator/samples.html", ctx, status=extra.get("status", 200))


@login_required
def samples_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id)
    return _page(request, project)


@login_required
@require_POST
def sample_preview(request: HttpRequest, project_id: int) -> HttpResponse:
    """The strata table for the form's design (htmx swaps it in; plain POST renders the page)."""
    project = get_project_for(request.user, project_id, Role.ADMIN)
    ctx: dict[str, Any] = {"project": project}
    try:
        ctx["preview"] = sample_service.preview_sample(project, design_from_form(request.POST))
    except DesignError as exc:
        ctx["error"] = exc
    if request.htmx:
        return render(request, "annotator/partials/sample_preview.html", ctx)
    return _page(request, project, values=_form_values(request.POST), **ctx)


@login_required
@require_POST
def sample_draw(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    try:
        sample = sample_service.draw_sample(project, design_from_form(request.POST), request.user)
    except DesignError as exc:
        return _page(request, project, values=_form_values(request.POST), error=exc, status=400)
    messages.success(
        request, f"Drew sample {sample.pk}: {sample.size} of {sample.population} examples."
    )
    return redirect("sample-detail", project_id=project.pk, sample_id=sample.pk)


@login_required
def sample_detail(request: HttpRequest, project_id: int, sample_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id)
    sample = get_object_or_404(Sample, pk=sample_id, project=project)
    estimates = sample_service.sample_estimates(sample)
    return render(
        request,
        "annotator/sample_detail.html",
        {
            "project": project,
            "sample": sample,
            "is_admin": project.current_role == Role.ADMIN,
            "estimates": sorted(estimates.items()),
            "design": json.dumps(sample.design, indent=1),
            "queued": project.queue_strategy == "sample" and project.queue_sample_id == sample.pk,
        },
    )


@login_required
@require_POST
def sample_queue(request: HttpRequest, project_id: int, sample_id: int) -> HttpResponse:
    """Annotate this sample: the project's queue serves only its members."""
    project = get_project_for(request.user, project_id, Role.ADMIN)
    sample = get_object_or_404(Sample, pk=sample_id, project=project)
    update_project(project, queue_strategy="sample", queue_sample=sample.pk)
    messages.success(
        request, f"The annotation queue now serves the {sample.size} members of sample {sample.pk}."
    )
    return redirect("sample-detail", project_id=project.pk, sample_id=sample.pk)
