"""Fast paths: a few hot requests answered in front of Flask, the rest handed to it.

Flask's request machinery (context, routing, hooks, teardown) and flask-smorest's parsing cost
more than a hot endpoint's own work. A fast path answers only well-formed requests of one
endpoint, and only when it can give exactly the answer the Flask view would; for anything
else (bad input, an error, a case it does not handle, an exception) it returns None and the
request goes to Flask unchanged, whose view remains the documented reference. Each fast path
has a setting to turn it off, and tests compare its answers with the view's.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask

Environ = dict[str, Any]


@dataclass(frozen=True)
class FastAnswer:
    """A complete JSON answer given without Flask."""

    status: str
    body: bytes


#: handler(app, environ, path match, raw body) -> the answer, or None to let Flask answer.
Handler = Callable[[Flask, Environ, re.Match[str], bytes], FastAnswer | None]


def install_fast_path(
    app: Flask, *, method: str, path: str, setting: str, max_body: int, handler: Handler
) -> None:
    """Answer `method path` (a regular expression) with `handler` while `setting` is on."""
    pattern = re.compile(path)
    flask_wsgi = app.wsgi_app

    def fast_path(environ: Environ, start_response: Any) -> Iterable[bytes]:
        match = pattern.fullmatch(environ.get("PATH_INFO", ""))
        if match is None or environ.get("REQUEST_METHOD") != method:
            return flask_wsgi(environ, start_response)
        if not app.config.get(setting, True):
            return flask_wsgi(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            length = -1
        if not 0 <= length <= max_body:
            return flask_wsgi(environ, start_response)
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)  # Flask can read it again if it takes over
        try:
            answer = handler(app, environ, match, raw)
        except Exception:  # Flask's view and error handlers answer (and log) properly
            answer = None
        if answer is None:
            return flask_wsgi(environ, start_response)
        start_response(
            answer.status,
            [("Content-Type", "application/json"), ("Content-Length", str(len(answer.body)))],
        )
        return [answer.body]

    app.wsgi_app = fast_path  # type: ignore[method-assign]
