"""What a failed background job tells the people who look at it.

`public_reason(exc)` is the one-line reason shown on a failed run, set, job or simulation: the
exception's type and message, with no traceback and no filesystem path (an admin's browser is
not where the server's layout belongs; a path also says which files exist). The worker's log
keeps the full traceback: callers log with `logger.exception` before recording the reason.
"""
from __future__ import annotations

import re

# An absolute POSIX path with at least two components, a Windows drive path, or a home path.
_PATH = re.compile(r"""(?:(?<![\w.:/])/(?:[^\s/'"`:,;()\[\]]+/)+[^\s/'"`:,;()\[\]]*)"""
                   r"""|(?:\b[A-Za-z]:\\[^\s'"`]+)|(?:~/[^\s'"`]+)""")
MAX_REASON = 500


def redact_paths(text: str) -> str:
    """`text` with every filesystem path replaced by `<path>`."""
    return _PATH.sub("<path>", text)


def public_reason(exc: BaseException) -> str:
    """`Type: message` of `exc`, one paragraph, paths redacted, at most MAX_REASON chars."""
    if isinstance(exc, OSError) and exc.strerror:
        # OSError's str() is "[Errno 2] No such file or directory: '/srv/...'": keep the why.
        message = exc.strerror
    else:
        message = str(exc)
    message = redact_paths(" ".join(message.split()))
    name = type(exc).__name__
    reason = f"{name}: {message}" if message else name
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 3] + "..."
