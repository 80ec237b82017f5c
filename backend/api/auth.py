"""Authentication: JWT callbacks and the one decorator every view uses to say who may call it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, g, request
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    verify_jwt_in_request,
)

from backend.api.errors import error_response
from backend.errors import PermissionDenied
from backend.extensions import jwt
from backend.identity.models import AuthSession, User
from backend.identity.services import load_session_user
from backend.permissions import ALL_ROLES, Role

F = TypeVar("F", bound=Callable[..., Any])
#: Set in the WSGI environ once this request's token was verified (g may outlive a request).
TOKEN_VERIFIED = "backend.token_verified"


@dataclass(frozen=True)
class Access:
    """Who may call a view: nobody in particular (public) or the listed roles."""

    roles: frozenset[Role]
    public: bool = False
    refresh: bool = False


def public(fn: F) -> F:
    """Mark a view as open to anyone, without a token."""
    fn.access = Access(roles=frozenset(), public=True)  # type: ignore[attr-defined]
    return fn


def requires(*roles: Role, refresh: bool = False) -> Callable[[F], F]:
    """Admit only callers with a valid token whose current role (from the database) is listed.

    Applied above flask-smorest's decorators, so the role check happens before the body is
    parsed: an anonymous or unauthorised caller learns nothing about the input rules.
    """
    allowed = frozenset(roles)

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # The Idempotency-Key check may have verified this request's token already;
            # decoding it twice costs a measurable share of a write's time.
            verified = g.get("_jwt_extended_jwt") if request.environ.get(TOKEN_VERIFIED) else None
            if not verified or verified.get("type") != ("refresh" if refresh else "access"):
                verify_jwt_in_request(refresh=refresh)
            if current_caller().role not in allowed:
                raise PermissionDenied("Your role may not do this.")
            return fn(*args, **kwargs)

        wrapper.access = Access(roles=allowed, refresh=refresh)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def signed_in(fn: F) -> F:
    """Any signed-in user, whatever the role."""
    return requires(*ALL_ROLES)(fn)


def current_caller() -> User:
    """The user of the verified token, as loaded from the database for this request."""
    return g.caller


def current_session() -> AuthSession:
    """The login session of the verified token."""
    return g.caller_session


def issue_tokens(user: User, session: AuthSession) -> dict[str, Any]:
    """An access and a refresh token bound to one login session."""
    claims = {"sid": session.id}
    return {
        "access_token": create_access_token(identity=user.id, additional_claims=claims),
        "refresh_token": create_refresh_token(identity=user.id, additional_claims=claims),
        "token_type": "Bearer",
    }


def issue_access_token(user: User, session: AuthSession) -> dict[str, Any]:
    """A new access token for a session (the refresh flow)."""
    token = create_access_token(identity=user.id, additional_claims={"sid": session.id})
    return {"access_token": token, "token_type": "Bearer"}


def _load_caller(jwt_payload: dict[str, Any]) -> bool:
    """Load user and session once per request; False when the token must be refused."""
    cached = g.get("caller_session")
    if cached is not None and cached.id == jwt_payload.get("sid"):
        return True
    loaded = load_session_user(user_id=jwt_payload["sub"], session_id=jwt_payload.get("sid"))
    if loaded is None:
        return False
    g.caller, g.caller_session = loaded
    return True


def register_jwt_callbacks(app: Flask) -> None:
    """Tie flask-jwt-extended to our sessions and our error shape."""

    @jwt.token_in_blocklist_loader
    def token_is_revoked(_header: dict, payload: dict) -> bool:
        # The role and municipality come from the database row, never from the token, so a
        # demotion or a deletion takes effect on the very next request.
        return not _load_caller(payload)

    @jwt.user_lookup_loader
    def user_lookup(_header: dict, _payload: dict) -> User:
        return g.caller

    def _unauthorized(code: str, message: str) -> Callable[..., Any]:
        return lambda *_args: error_response(401, code, message)

    jwt.unauthorized_loader(_unauthorized("token_missing", "A bearer token is required."))
    jwt.invalid_token_loader(_unauthorized("token_invalid", "The token is not valid."))
    jwt.expired_token_loader(_unauthorized("token_expired", "The token has expired."))
    jwt.revoked_token_loader(_unauthorized("token_revoked", "The token was revoked."))
    jwt.user_lookup_error_loader(_unauthorized("token_revoked", "The account is gone."))
    jwt.needs_fresh_token_loader(_unauthorized("token_invalid", "A fresh token is required."))
