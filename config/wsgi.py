"""WSGI entry point (gunicorn `config.wsgi:application`, what `manage.py serve` runs)."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Bodies up to this size stay in memory while being measured; larger ones spill to disk.
_SPOOL_BYTES = 2 * 1024 * 1024


def with_chunked_bodies(app: Callable) -> Callable:
    """Give Django a length for `Transfer-Encoding: chunked` bodies.

    Django reads exactly CONTENT_LENGTH bytes and reads nothing when it is missing, so a chunked
    request (curl -T -, streaming clients) arrived empty. gunicorn de-chunks wsgi.input; this
    copies it to a spooled temporary file and sets CONTENT_LENGTH, leaving the size limits to
    Django as for any other body.
    """

    def wrapped(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            body = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
            shutil.copyfileobj(environ["wsgi.input"], body, 64 * 1024)
            environ["CONTENT_LENGTH"] = str(body.tell())
            body.seek(0)
            environ["wsgi.input"] = body
        return app(environ, start_response)

    return wrapped


application = with_chunked_bodies(get_wsgi_application())
