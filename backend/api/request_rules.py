"""What every request must be before a view sees it: its body, its path ids, its query.

One place for the limits a client can rely on (README "What the platform guarantees"):
a body is at most `MAX_CONTENT_LENGTH` bytes (config), a body is JSON (415 otherwise), JSON nests at
most `MAX_JSON_DEPTH` levels (400 `json_too_deep`), no string anywhere in it holds a lone
UTF-16 surrogate (422: it cannot even be encoded), and no path id or query value holds a NUL
(PostgreSQL refuses it in a statement: 404 and 422, not a 500). NUL inside a body's strings is
refused field by field by the input schemas (`backend.schemas.InputSchema`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider

from backend.api.errors import error_response
from backend.errors import DomainError, ValidationFailed

#: Nesting levels of arrays and objects a request body may have (far more than any schema needs).
MAX_JSON_DEPTH = 32
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: UTF-16 surrogates: JSON's "\ud800" escape gives one alone, which no encoding can write.
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonTooDeep(DomainError):
    """A JSON body nests deeper than `MAX_JSON_DEPTH` (answered 400)."""

    code = "json_too_deep"


class MalformedJson(DomainError):
    """A body that is not JSON at all (answered 400)."""

    code = "malformed_json"


def _check_value(value: Any) -> None:
    # Iterative walk: a recursive one is what a deep body is meant to break.
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise ValidationFailed(
                    fields={path or "_schema": ["Lone surrogate characters are not allowed."]}
                )
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise JsonTooDeep(f"JSON may nest at most {MAX_JSON_DEPTH} levels.")
        if isinstance(item, dict):
            for key, child in item.items():
                name = f"{path}.{key}" if path else str(key)
                if _SURROGATE.search(key):
                    raise ValidationFailed(
                        fields={"_schema": ["Lone surrogate characters are not allowed."]}
                    )
                stack.append((child, depth + 1, name))
        else:
            for index, child in enumerate(item):
                stack.append((child, depth + 1, f"{path}.{index}" if path else str(index)))


def load_json(data: bytes | str) -> Any:
    """Parse a request body under the rules above (the one JSON reader of requests)."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text)
    except RecursionError as error:
        raise JsonTooDeep(f"JSON may nest at most {MAX_JSON_DEPTH} levels.") from error
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise MalformedJson("The body is not valid JSON.") from error
    _check_value(value)
    return value


class RequestJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider whose reading goes through `load_json` (`request.get_json()`)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load_json(s)


#: Where the JSON-only body rule applies.
API_PREFIX = "/api/"


def _has_body() -> bool:
    return bool(request.content_length) or request.headers.get("Transfer-Encoding") is not None


def check_request() -> Response | None:
    """Before anything else: refuse a non-JSON body and NUL in path ids and query values."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and "\x00" in value:
            # No id holds a NUL: whatever it names does not exist.
            return error_response(404, "not_found", "Not found.")
    bad_args = [name for name, value in request.args.items(multi=True) if "\x00" in value]
    if bad_args:
        return error_response(
            422,
            "validation_failed",
            "Check the input.",
            {name: ["NUL characters are not allowed."] for name in bad_args},
        )
    # The API takes JSON only; the console's pages (outside /api/) post HTML forms, which
    # their own form token and the API's input schemas check.
    if request.method in BODY_METHODS and _has_body() and request.path.startswith(API_PREFIX):
        if not request.is_json:
            return error_response(
                415,
                "unsupported_media_type",
                "The body must be JSON (Content-Type: application/json).",
            )
        # Checked here once for every view (the views' parsers then read a body known to be
        # shallow and clean); a body over MAX_CONTENT_LENGTH is a 413 from Werkzeug. Read through
        # `get_json` so the parsed body is cached and `request.get_json()` later costs nothing.
        request.get_json()
    return None


def register_request_rules(app: Flask) -> None:
    """Install the JSON reader and the checks before every view."""
    app.json = RequestJSONProvider(app)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.before_request(check_request)
