"""{% api_keys_section project %}: the API keys of a project on its members page (admins)."""
from __future__ import annotations

from typing import Any

from django import template

from integrations.api_keys.service import keys_of
from integrations.models.api_keys import Scope

register = template.Library()


@register.inclusion_tag("integrations/partials/api_keys_section.html", takes_context=True)
def api_keys_section(context: Any, project: Any) -> dict[str, Any]:
    return {
        "project": project, "keys": keys_of(project), "scopes": Scope.choices, "back": "members",
        "csrf_token": context.get("csrf_token"), "form": None, "checked": [], "error": None,
    }
