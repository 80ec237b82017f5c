"""One transaction per request, and Idempotency-Key replay, around every view.

Views call services that only flush; here the request commits once when the answer is a
success and rolls back otherwise, so a failed request never leaves half a record behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request
from sqlalchemy.exc import IntegrityError

from backend.api.auth import verify_token
from backend.api.errors import error_response
from backend.extensions import db
from backend.idempotency.services import (
    ANONYMOUS_SCOPE,
    find_replay,
    request_fingerprint,
    store_answer,
)

IDEMPOTENT_METHODS = frozenset({"POST"})
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: What the hooks and views note on `g` for this request's commit.
_REQUEST_MARKS = ("idempotency", "idempotency_replayed", "access_recorded")
F = TypeVar("F", bound=Callable[..., Any])


def read_only(fn: F) -> F:
    """Mark a POST view that changes nothing (a check, like certificate verification).

    Its Idempotency-Key is ignored: repeating it gives the same answer anyway, and storing one
    would put a database write on a path that must not touch the database.
    """
    fn.read_only = True  # type: ignore[attr-defined]
    return fn


def _view_is_read_only() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "read_only", False)


def _caller_scope() -> str:
    # The token is verified (not just decoded): a forged subject must not replay another
    # user's answer. The session loaded here is reused by the view's own check.
    claims = verify_token(optional=True)
    return f"user:{claims['sub']}" if claims else ANONYMOUS_SCOPE


def check_idempotency_key() -> Response | None:
    """Before the view: replay a stored answer, refuse a reused key, or note the key."""
    # `g` belongs to the app context, which outlives a request when one was pushed before it
    # (tests, commands): this request's marks start clean, never a previous request's.
    for mark in _REQUEST_MARKS:
        g.pop(mark, None)
    key = request.headers.get("Idempotency-Key")
    if request.method not in IDEMPOTENT_METHODS or key is None:
        return None
    # The contract's limit holds on every POST, read-only ones included (a client that sends
    # an over-long key learns it at once, not from the first endpoint that stores one).
    if not IDEMPOTENCY_KEY.match(key):
        return error_response(
            422,
            "idempotency_key_invalid",
            "Invalid Idempotency-Key.",
            {"Idempotency-Key": ["1-128 visible ASCII characters."]},
        )
    if _view_is_read_only():
        return None
    scope = _caller_scope()
    fingerprint = request_fingerprint(request.method, request.full_path, request.get_data())
    lookup = find_replay(scope=scope, key=key, fingerprint=fingerprint)
    record = lookup.answer
    if record is not None:
        response = Response(
            record.body, status=record.status_code, content_type=record.content_type
        )
        if record.location:
            response.headers["Location"] = record.location
        response.headers["Idempotency-Replayed"] = "true"
        g.idempotency_replayed = True
        return response
    g.idempotency = (scope, key, fingerprint, lookup.expired)
    return None


def _remember_answer(response: Response) -> None:
    scope, key, fingerprint, expired = g.idempotency
    store_answer(
        scope=scope,
        key=key,
        fingerprint=fingerprint,
        status_code=response.status_code,
        content_type=response.content_type or "application/json",
        location=response.headers.get("Location"),
        body=response.get_data(),
        replace_expired=expired,
    )


def finish_transaction(response: Response) -> Response:
    """After the view: commit a success once (with its idempotency record), else roll back."""
    if g.get("idempotency_replayed"):
        return response
    if request.method in READ_ONLY_METHODS and not g.get("access_recorded"):
        # A read commits only the access record a staff read wrote (access_log.log_access);
        # without this the record would be dropped with the request's session.
        return response
    if not db.session.registry.has():
        # The view never opened a database session (e.g. certificate verification, served
        # from memory): there is nothing to commit or roll back, and no idempotency record.
        return response
    if response.status_code >= 400:
        db.session.rollback()
        return response
    try:
        if g.get("idempotency"):
            _remember_answer(response)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if g.get("idempotency"):
            return error_response(
                409, "idempotency_key_in_use", "A request with this Idempotency-Key is in progress."
            )
        return error_response(409, "conflict", "The request conflicts with the current state.")
    return response


def register_transaction_hooks(app: Flask) -> None:
    """Install the per-request transaction and idempotency handling."""
    app.before_request(check_idempotency_key)
    app.after_request(finish_transaction)
