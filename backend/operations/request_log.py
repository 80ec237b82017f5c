"""One JSON log line per request, with a request id carried through the answer and the logs.

The id comes from the caller's (or the proxy's) `X-Request-ID` when it is a plain token, or is
made here; it is sent back in the answer and added to every log line written while the request
runs. A line names the route pattern (`/api/v1/calendar-feeds/<token>.ics`), never the path
or the query: paths and queries can carry secrets (feed tokens) and personal data (searches),
and no line may hold either.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
#: The longest id accepted from a caller (and the width of the columns that store one).
REQUEST_ID_MAX_LENGTH = 64
_REQUEST_ID = re.compile(rf"^[A-Za-z0-9._:-]{{1,{REQUEST_ID_MAX_LENGTH}}}$")
_current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

log = logging.getLogger("coproduction.request")


def current_request_id() -> str | None:
    """The id of the request being served in this context, if any (for other log lines)."""
    return _current_request_id.get()


@contextlib.contextmanager
def bind_request_id(request_id: str | None) -> Iterator[None]:
    """Stamp every log line written inside the block with `request_id` (e.g. a push worker
    sending the pushes one request caused, with the id stored on their row)."""
    token = _current_request_id.set(request_id)
    try:
        yield
    finally:
        _current_request_id.reset(token)


def new_request_id() -> str:
    """A fresh request id (32 hex characters)."""
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object: time, level, logger, message, request id, extras."""

    #: Attributes of every LogRecord; anything else was passed with `extra=` and is kept.
    _STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in self._STANDARD and key != "request_id":
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)

    def formatException(self, ei: Any) -> str:
        """Where it failed, not what it said: each exception of the chain as its type and
        frames, without its message, which may quote personal data (a database's "Key
        (email)=(...) already exists", a value a rule refused)."""
        parts: list[str] = []
        error: BaseException | None = ei[1]
        seen: set[int] = set()
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            kind = type(error)
            frames = "".join(traceback.format_tb(error.__traceback__))
            parts.append(f"{kind.__module__}.{kind.__qualname__} (message withheld)\n{frames}")
            error = error.__cause__ or error.__context__
        return "\n-- caused by --\n".join(parts).rstrip()


def _stamp_request_ids() -> None:
    """Give every log record made during a request that request's id (once per process).

    Stamped when the record is made, not when it is formatted: a handler that formats later
    (a queue, a test's capture) still shows the id.
    """
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "_stamps_request_id", False):
        return

    def stamped(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        # Only inside a request (or bind_request_id): elsewhere `extra={"request_id": ...}`
        # must stay possible, and logging refuses an extra that overwrites an attribute.
        request_id = _current_request_id.get()
        if request_id is not None:
            record.request_id = request_id
        return record

    stamped._stamps_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(stamped)


def configure_json_logging(app: Flask) -> None:
    """Send the platform's loggers to stderr as JSON lines, once per process.

    Only the `backend` and `coproduction` loggers are touched (not the root logger), so a test
    runner's or gunicorn's own handlers stay as they are. `LOG_LEVEL` sets the level.
    """
    _stamp_request_ids()
    level = logging.getLevelName(str(app.config.get("LOG_LEVEL", "INFO")).upper())
    for name in ("backend", "coproduction"):
        logger = logging.getLogger(name)
        logger.setLevel(level if isinstance(level, int) else logging.INFO)
        if not any(getattr(h, "_coproduction_json", False) for h in logger.handlers):
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(JsonFormatter())
            handler._coproduction_json = True  # type: ignore[attr-defined]
            logger.addHandler(handler)


def _start_request() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = given if _REQUEST_ID.match(given) else new_request_id()
    g.request_id = request_id
    g.request_token = _current_request_id.set(request_id)
    g.request_started = time.perf_counter()


def request_duration() -> float:
    """Seconds since this request started (0 when it never went through the hooks)."""
    started = g.get("request_started")
    return time.perf_counter() - started if started is not None else 0.0


def route_of_request() -> str:
    """The matched route pattern, or a fixed word when nothing matched (no raw path)."""
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def error_code_of(response: Response) -> str | None:
    """The machine code of a JSON error answer (`{"error": {"code": ...}}`), else None."""
    if response.status_code < 400 or not response.is_json or response.is_streamed:
        return None
    body = response.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        return code if isinstance(code, str) else None
    return None


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is None:
        return response
    response.headers[REQUEST_ID_HEADER] = request_id
    # The id itself is stamped on the record (see _stamp_request_ids), not passed here.
    fields: dict[str, Any] = {
        "method": request.method,
        "route": route_of_request(),
        "status": response.status_code,
        "duration_ms": round(request_duration() * 1000, 2),
    }
    code = error_code_of(response)
    if code:
        fields["error_code"] = code
    log.info("request", extra=fields)
    return response


def _forget_request(_error: BaseException | None) -> None:
    token = g.pop("request_token", None)
    if token is not None:
        _current_request_id.reset(token)


def register_request_log(app: Flask) -> None:
    """Give every request an id and write its JSON line after the answer is made."""
    configure_json_logging(app)
    # First before every other hook, so their log lines carry the id too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    # Flask runs after-request hooks last-registered first: put ours first in the list so it
    # runs last and logs the final status (after the commit, which may turn a 200 into a 409).
    app.after_request_funcs.setdefault(None, []).insert(0, _finish_request)
    app.teardown_request(_forget_request)
