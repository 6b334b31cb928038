"""What an import returns or raises."""
from __future__ import annotations

from dataclasses import dataclass

# The REST contract lists at most this many errors; past it the import stops reading.
MAX_ERRORS = 100


@dataclass(frozen=True)
class ImportResult:
    """How many examples were stored and how many rows were skipped as duplicates."""

    imported: int
    duplicates: int


class RowError(Exception):
    """One bad row (or header): `line` is the 1-based physical line where it starts."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message

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
