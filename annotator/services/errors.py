"""The error every project rule raises (its own module so that the rule modules,
`projects` and `project_settings`, import each other one way only)."""
from __future__ import annotations


class ProjectRuleError(ValueError):
    """A request breaks a project rule. `field` names the input; `conflict` marks errors caused
    by the project's current state (HTTP 409) rather than by malformed input (HTTP 400)."""

    def __init__(self, message: str, field: str = "non_field_errors", conflict: bool = False):
        super().__init__(message)
        self.message = message
        self.field = field
        self.conflict = conflict
