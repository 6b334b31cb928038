"""`{% worker_notice job %}`: on a page that waits on a job, say when no worker has taken it."""
from __future__ import annotations

from typing import Any

from django import template

from annotator.services.workers import notice_for

register = template.Library()


@register.inclusion_tag("partials/worker_notice.html")
def worker_notice(job: Any) -> dict[str, Any]:
    return {"notice": notice_for(job)}
