"""`{% worker_notice job %}`: on a page that waits on a job, say when no worker has taken it (or,
for a started job, worked on it). `{% job_notice job as notice %}` gives the notice itself (None
when there is nothing to say), for a page that wraps it, e.g. in a table row of its own."""
from __future__ import annotations

from typing import Any

from django import template

from annotator.services.workers import notice_for

register = template.Library()


@register.inclusion_tag("partials/worker_notice.html")
def worker_notice(job: Any) -> dict[str, Any]:
    return {"notice": notice_for(job)}


@register.simple_tag
def job_notice(job: Any) -> Any:
    return notice_for(job)
