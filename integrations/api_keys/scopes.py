"""Which scope each REST operation needs when the caller is a project API key.

Keyed by (URL name, method), the names the role matrix (tests/api/test_role_matrix.py) uses.
An operation missing here is closed to API keys (deny by default): a new route is reachable by
keys only once someone decides which scope covers it. Project-level reach is the role checks'
job: a key is a member of its own project only (annotator.permissions).
"""
from __future__ import annotations

from integrations.models.api_keys import Scope

PREDICT, READ, IMPORT, EXPORT = Scope.PREDICT, Scope.READ, Scope.IMPORT, Scope.EXPORT

OPERATION_SCOPES: dict[tuple[str, str], str] = {
    # predict: one-off predictions and batch scoring jobs.
    ("api-project-predict", "post"): PREDICT,
    ("api-scoring-jobs", "get"): PREDICT,
    ("api-scoring-jobs", "post"): PREDICT,
    ("api-scoring-job", "get"): PREDICT,
    ("api-scoring-job-results", "get"): PREDICT,
    ("api-scoring-job-cancel", "post"): PREDICT,
    ("api-scoring-job-resume", "post"): PREDICT,
    # read: the project, examples, annotations, versions and runs, the index, samples, and the
    # progress of prediction jobs (what a system reads after a webhook).
    ("api-project-detail", "get"): READ,
    ("api-label-list", "get"): READ,
    ("api-label-detail", "get"): READ,
    ("api-example-list", "get"): READ,
    ("api-example-detail", "get"): READ,
    ("api-example-annotations", "get"): READ,
    ("api-project-runs", "get"): READ,
    ("api-run-detail", "get"): READ,
    ("api/v1/runs/<int:run_id>/", "get"): READ,  # the unnamed slash twin of api-run-detail
    ("api-project-models", "get"): READ,
    ("api-model-detail", "get"): READ,
    ("api-project-predictions-status", "get"): READ,
    ("api-project-prediction-jobs", "get"): READ,
    ("api-prediction-job", "get"): READ,
    ("api-project-index", "get"): READ,
    ("api-project-samples", "get"): READ,
    ("api-sample-detail", "get"): READ,
    ("api-sample-members", "get"): READ,
    # import: send files and follow the background jobs they become.
    ("api-project-import", "post"): IMPORT,
    ("api-import-job-detail", "get"): IMPORT,
    # export.
    ("api-project-export", "get"): EXPORT,
}


def operation_name(resolver_match: object | None) -> str:
    """The URL name of a resolved request, or its route for an unnamed one (as the matrix)."""
    if resolver_match is None:
        return ""
    return getattr(resolver_match, "url_name", None) or getattr(resolver_match, "route", "") or ""


def scope_needed(url_name: str, method: str) -> str | None:
    """The scope an operation needs from a key, or None when keys may not call it. HEAD and
    OPTIONS count as GET (they read)."""
    method = method.lower()
    if method in ("head", "options"):
        method = "get"
    return OPERATION_SCOPES.get((url_name, method))
