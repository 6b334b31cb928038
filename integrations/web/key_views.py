"""API keys in the browser: the members page lists them (templatetags.integrations) and posts
here; a new key is shown once on the answer page, never stored or sent again."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from annotator.models import Role
from annotator.permissions import get_project_for
from integrations.api_keys import service
from integrations.models.api_keys import ApiKey, Scope


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_keys_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """GET: the keys and the form. POST: create one and show its secret on this answer only."""
    project = get_project_for(request.user, project_id, Role.ADMIN)
    error = None
    created = None
    status = 200
    if request.method == "POST":
        try:
            created = service.create_api_key(
                project, name=request.POST.get("name", ""), scopes=request.POST.getlist("scopes"),
                expires_at=request.POST.get("expires_at", ""), created_by=request.user,
            )
        except service.ApiKeyError as exc:
            error, status = {"field": exc.field, "message": exc.message}, 400
    context = {
        "project": project, "error": error, "created": created,
        "keys": service.keys_of(project), "scopes": Scope.choices,
        "form": request.POST if error else None,
        "checked": request.POST.getlist("scopes") if error else [],
    }
    return render(request, "integrations/api_keys.html", context, status=status)


@login_required
@require_POST
def revoke_key(request: HttpRequest, project_id: int, key_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    api_key = get_object_or_404(ApiKey, pk=key_id, project=project)
    service.revoke_api_key(api_key)
    messages.success(request, f"Revoked the API key {api_key.name} (vgk_{api_key.prefix}...).")
    target = "project-members" if request.POST.get("back") == "members" else "api-keys"
    return redirect(target, project_id=project.pk)
