"""Webhooks in the browser: register (the secret is shown once), the delivery log of each
webhook, send a test event, enable a disabled one, delete."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from annotator.models import Role
from annotator.permissions import get_project_for
from config.events import EVENTS
from integrations.models.webhooks import Webhook
from integrations.webhooks import service

DELIVERIES_ON_PAGE = 20


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def webhooks_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    error = None
    created = None
    status = 200
    if request.method == "POST":
        try:
            created = service.create_webhook(project, url=request.POST.get("url", ""),
                                             events=request.POST.getlist("events"), created_by=request.user)
        except service.WebhookError as exc:
            error, status = {"field": exc.field, "message": exc.message}, 400
    hooks = [
        {"webhook": w, "deliveries": list(w.deliveries.all()[:DELIVERIES_ON_PAGE])}
        for w in project.webhooks.all()
    ]
    context = {
        "project": project, "hooks": hooks, "events": EVENTS, "error": error, "created": created,
        "url": request.POST.get("url", "") if error else "",
        "checked": request.POST.getlist("events") if error else [],
    }
    return render(request, "integrations/webhooks.html", context, status=status)


@login_required
@require_POST
def webhook_action(request: HttpRequest, project_id: int, webhook_id: int, action: str) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    webhook = get_object_or_404(Webhook, pk=webhook_id, project=project)
    if action == "test":
        service.send_test_event(webhook)
        messages.success(request, f"Sent a test event to {webhook.url}; its delivery is listed below.")
    elif action == "enable":
        service.enable_webhook(webhook)
        messages.success(request, f"Enabled the webhook to {webhook.url} again.")
    elif action == "delete":
        service.delete_webhook(webhook)
        messages.success(request, f"Deleted the webhook to {webhook.url} and its delivery log.")
    else:
        raise Http404("No such action.")
    return redirect("webhooks", project_id=project.pk)
