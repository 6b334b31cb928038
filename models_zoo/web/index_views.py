"""The prevalence index page: daily share, moving average, peaks and the corrected index with
its 95% band as a server-rendered SVG chart (same service as GET /api/v1/projects/{id}/index)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.exceptions import APIException, ValidationError

from annotator.permissions import get_project_for
from annotator.web.svg_chart import build_chart
from models_zoo.api.index_views import index_for_request
from models_zoo.models import ModelVersion


@login_required
def index_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id)
    labels = list(project.labels.values_list("name", flat=True))
    versions = list(ModelVersion.objects.filter(project=project).order_by("-id"))
    ctx = {"project": project, "labels": labels, "versions": versions, "q": request.GET}
    if not request.GET.get("label") and labels:
        request.GET = request.GET.copy()
        request.GET["label"] = labels[0]
    status = 200
    try:
        body = index_for_request(request, project)
    except ValidationError as exc:
        ctx["error"] = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.detail.items())
        status = 400
    except APIException as exc:
        ctx["error"] = str(exc.detail)
        status = 409
    else:
        dates = [d["date"] for d in body["days"]]
        series = {
            "share": [d["share"] for d in body["days"]],
            "moving_average": [d["moving_average"] for d in body["days"]],
        }
        band = None
        corrected = body["corrected"].get("days") or []
        if corrected:
            series["corrected"] = [c["share"] for c in corrected]
            band = ([c["ci95"][0] for c in corrected], [c["ci95"][1] for c in corrected])
        peak_dates = {p["date"] for p in body["peaks"]}
        chart = build_chart(
            dates, series, band, [i for i, d in enumerate(dates) if d in peak_dates]
        )
        ctx.update(body=body, chart=chart, label=body["label"])
    return render(request, "annotator/index.html", ctx, status=status)
