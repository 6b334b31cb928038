"""Physical lines of an import, numbered, size-capped and checked for undecodable bytes."""
from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from annotator.importers.errors import RowError
from config.text_safety import guess_encoding, undecodable_byte

# A tweet is small; a field (or a JSON line) this big means a stray quote swallowed the rest
# of the file, or the file is not what its format says.
FIELD_LIMIT = 10 * 1024 * 1024


class LineTooLong(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class UndecodableLine(Exception):
    """A physical line holding bytes that are not UTF-8 (the stream decodes them as surrogate
    escapes); fatal for the whole file: the rest is most likely in the same other encoding."""

    def __init__(self, line: int, text: str) -> None:
        offset, byte = undecodable_byte(text)  # type: ignore[misc]
        raw = text.encode("utf-8", "surrogateescape")
        self.error = RowError(
            line,
            f"byte 0x{byte:02X} at column {offset + 1} is not UTF-8; the file looks like "
            f"{guess_encoding(raw)} text: save it as UTF-8 and import it again",
            fatal=True,
        )
        super().__init__(self.error.message)


class LineSource:
    """Physical lines of a text stream, numbered, each at most `limit` characters (a longer
    one raises LineTooLong after the rest of it was skipped) and each checked for undecodable
    bytes at its own line (raises UndecodableLine)."""

    def __init__(self, stream: TextIO, limit: int | None = None) -> None:
        self.stream = stream
        self.limit = limit or FIELD_LIMIT
        self.line_no = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self.stream.readline(self.limit + 1)
        if not line:
            raise StopIteration
        self.line_no += 1
        if len(line) > self.limit and not line.endswith(("\n", "\r")):
            while True:  # skip the rest of the over-long line, bounded memory
                rest = self.stream.readline(1 << 20)
                if not rest or rest.endswith(("\n", "\r")):
                    break
            raise LineTooLong(self.line_no)
        if undecodable_byte(line) is not None:
            raise UndecodableLine(self.line_no, line)
        return line

    def too_long(self, line: int) -> RowError:
        return RowError(line, f"the line is longer than {self.limit} characters")


def numbered(lines: LineSource) -> Iterator[tuple[int, str | RowError]]:
    """(line number, line) pairs; an over-long line comes as a RowError (the next line goes on),
    an undecodable one as a fatal RowError and the end."""
    while True:
        try:
            line = next(lines)
        except StopIteration:
            return
        except LineTooLong as exc:
            yield exc.line, lines.too_long(exc.line)
            continue
        except UndecodableLine as exc:
            yield lines.line_no, exc.error
            return
        yield lines.line_no, line
