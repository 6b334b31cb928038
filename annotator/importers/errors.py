"""What an import returns or raises."""
from __future__ import annotations

from dataclasses import dataclass, field

from config.enqueue import BrokerUnavailable

# The REST contract lists at most this many errors; past it the import stops reading.
MAX_ERRORS = 100


ON_ERROR_CHOICES = ("stop", "skip")


@dataclass(frozen=True)
class ImportResult:
    """How many examples were stored, how many rows were duplicates, and (on_error=skip) how
    many bad records were left out, with the first MAX_ERRORS of their errors."""

    imported: int
    duplicates: int
    skipped: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "imported": self.imported, "duplicates": self.duplicates,
            "skipped": self.skipped, "errors": self.errors,
        }


class RowError(Exception):
    """One bad row (or header): `line` is the 1-based physical line where it starts.
    `fatal`: the rest of the file cannot be read either (wrong encoding, broken header), so
    the import fails even with on_error=skip."""

    def __init__(self, line: int | None, message: str, fatal: bool = False) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.fatal = fatal

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "message": self.message}


class ImportFailed(Exception):
    """The file (or the request around it) was rejected; nothing was stored.

    `errors` is a list of `{"line": int | None, "message": str}`, at most MAX_ERRORS long;
    `truncated` says the file had more problems than were listed.
    """

    def __init__(self, errors: list[dict[str, object]], truncated: bool = False) -> None:
        self.errors = errors[:MAX_ERRORS]
        self.truncated = truncated or len(errors) > MAX_ERRORS
        first = self.errors[0] if self.errors else {"line": None, "message": "import failed"}
        where = f"line {first['line']}: " if first.get("line") else ""
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"{where}{first['message']}{more}")

    @classmethod
    def single(cls, message: str, line: int | None = None) -> ImportFailed:
        return cls([{"line": line, "message": message}])


class EnqueueFailed(BrokerUnavailable):
    """The broker did not take the background task (it is down or unreachable); the job was
    removed. The REST answer is 503."""

    def __init__(self, task_name: str, reason: str) -> None:
        super().__init__(task_name, reason)
        self.args = (f"the task queue is unavailable, nothing was imported: {reason}",)

    def __str__(self) -> str:
        return str(self.args[0])
