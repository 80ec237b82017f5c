"""Every exception becomes the one JSON error shape: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from backend import errors as domain
from backend.api.messages import message_for, wants_english
from backend.certification.keys import KeyDecryptionError
from backend.extensions import db

log = logging.getLogger(__name__)

STATUS_BY_ERROR: list[tuple[type[domain.DomainError], int]] = [
    (domain.ValidationFailed, 422),
    (domain.NotFound, 404),
    (domain.Unauthenticated, 401),
    (domain.PermissionDenied, 403),
    (domain.RateLimited, 429),
    (domain.Conflict, 409),
    (domain.Unavailable, 503),
]

CODE_BY_HTTP_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Build an error answer in the caller's language."""
    english = wants_english(request.headers.get("Accept-Language"))
    body = {
        "error": {
            "code": code,
            "message": message_for(code, message, english=english),
            "fields": dict(fields or {}),
        }
    }
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def status_of(error: domain.DomainError) -> int:
    """The HTTP status of a refusal (the one table, `STATUS_BY_ERROR`)."""
    for error_class, status in STATUS_BY_ERROR:
        if isinstance(error, error_class):
            return status
    return 400


def handle_domain_error(error: domain.DomainError) -> Response:
    """A service refused: its code and fields go to the caller."""
    headers = {}
    if isinstance(error, domain.RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    return error_response(status_of(error), error.code, error.message, error.fields, headers)


def flatten_field_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into {"a.b": ["..."]}."""
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": messages}
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_field_errors(value, name))
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            flat.update(flatten_field_errors(value, f"{prefix}.{index}" if prefix else str(index)))
    return flat


def _webargs_messages(error: HTTPException) -> dict[str, list[str]]:
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors") or {}
    # webargs nests by location ({"json": {...}, "query": {...}}); the app only needs the field.
    merged: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for location_messages in messages.values():
            merged.update(flatten_field_errors(location_messages))
    return merged


def handle_http_exception(error: HTTPException) -> Response:
    """Werkzeug and webargs errors (404, 405, malformed JSON, validation) in our shape."""
    status = error.code or 500
    fields = _webargs_messages(error)
    code = CODE_BY_HTTP_STATUS.get(status, "error" if status < 500 else "internal_error")
    if status == 400 and any("JSON" in m for msgs in fields.values() for m in msgs):
        code, fields = "malformed_json", {}
    message = error.description if status < 500 else "Internal server error."
    valid_methods = getattr(error, "valid_methods", None)
    headers = {"Allow": ", ".join(valid_methods)} if valid_methods else {}
    return error_response(status, code, message or code, fields, headers)


def handle_integrity_error(error: IntegrityError) -> Response:
    """A unique or foreign-key rule the database enforced: the request clashed with the state."""
    db.session.rollback()
    log.info("integrity error turned into 409: %s", error.orig)
    return error_response(409, "conflict", "The request conflicts with the current state.")


#: Seconds a client should wait before retrying while the database is unreachable.
UNAVAILABLE_RETRY_AFTER = 5


def handle_database_unavailable(error: Exception) -> Response:
    """The database cannot be reached (refused, dropped, locked, pool exhausted): 503.

    Nothing was written (the transaction never committed); the client may retry the same
    request, with the same Idempotency-Key, after Retry-After seconds.
    """
    with contextlib.suppress(Exception):  # the rollback needs the database that is gone
        db.session.rollback()
    log.warning("database unavailable: %s", getattr(error, "orig", error))
    return error_response(
        503,
        "service_unavailable",
        "The service is unavailable for a moment; try again shortly.",
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
    )


def handle_signing_key_unavailable(error: KeyDecryptionError) -> Response:
    """The configured secret cannot open the active signing key: nothing can be signed until
    the server runs with the secret the key was stored with. Loud in the log, 503 outside."""
    with contextlib.suppress(Exception):
        db.session.rollback()
    log.error("CERTIFICATE_KEY_SECRET cannot open the active signing key: %s", error)
    return error_response(
        503,
        "signing_key_unavailable",
        "The certificate signing key is unavailable; try again later.",
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
    )


def handle_unexpected(error: Exception) -> Response:
    """Anything else is our fault: log it, answer 500 in the same shape, leak nothing."""
    db.session.rollback()
    log.exception("unhandled error", exc_info=error)
    return error_response(500, "internal_error", "Internal server error.")


def register_error_handlers(app: Flask) -> None:
    """Map every exception to the one error shape."""
    app.register_error_handler(domain.DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(KeyDecryptionError, handle_signing_key_unavailable)
    for unavailable in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(unavailable, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
