"""Authentication: JWT callbacks and the one decorator every view uses to say who may call it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import jwt as pyjwt
from flask import Flask, current_app, g, request
from flask_jwt_extended import create_access_token, create_refresh_token
from flask_jwt_extended.config import config as jwt_config
from flask_jwt_extended.exceptions import (
    InvalidHeaderError,
    JWTDecodeError,
    NoAuthorizationError,
    RevokedTokenError,
    WrongTokenError,
)

from backend.api.errors import error_response
from backend.errors import PermissionDenied
from backend.extensions import jwt
from backend.identity.models import AuthSession, User
from backend.identity.services import load_session_user
from backend.permissions import ALL_ROLES, Role

F = TypeVar("F", bound=Callable[..., Any])
#: The WSGI environ key of this request's verified token claims (g may outlive a request).
TOKEN_CLAIMS = "backend.token_claims"


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
            verify_token(refresh=refresh)
            caller = current_caller()
            if caller.role not in allowed:
                raise PermissionDenied("Your role may not do this.")
            if caller.birth_year is not None and _limited_write(caller):
                raise PermissionDenied(
                    "A guardian's consent is needed first.", code="guardian_consent_required"
                )
            return fn(*args, **kwargs)

        wrapper.access = Access(roles=allowed, refresh=refresh)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


#: What a limited account (under 14, no guardian's consent yet) may still change: its own
#: account, consents and data (under /me), and its login.
_LIMITED_MAY_WRITE = ("/api/v1/me", "/api/v1/auth/")


def _limited_write(caller: User) -> bool:
    """Whether this request is a change a limited account may not make."""
    return (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and not request.path.startswith(_LIMITED_MAY_WRITE)
        and caller.needs_guardian_consent
    )


def verify_token(*, refresh: bool = False, optional: bool = False) -> dict[str, Any] | None:
    """This request's bearer token, verified, with its user and session loaded; None when
    there is no token and `optional`.

    What flask-jwt-extended's `verify_jwt_in_request` checks (signature, expiry, the identity
    claim, the token type, our session check), in one PyJWT decode instead of four parses
    (~110 us a request: PyJWT checks the base64 alphabet byte by byte in Python). The token is
    verified once per request; the Idempotency-Key check and the view share the result. Errors
    are flask-jwt-extended's and PyJWT's own exceptions, so its handlers give the same answers.
    """
    if request.method in jwt_config.exempt_methods:
        return None
    claims = request.environ.get(TOKEN_CLAIMS)
    if claims is None:
        encoded = _bearer_token(optional=optional)
        if encoded is None:
            return None
        claims = _decode(encoded)
        if not _load_caller(claims):
            raise RevokedTokenError(pyjwt.get_unverified_header(encoded), claims)
        request.environ[TOKEN_CLAIMS] = claims
    if refresh and claims["type"] != "refresh":
        raise WrongTokenError("Only refresh tokens are allowed")
    if not refresh and claims["type"] == "refresh":
        raise WrongTokenError("Only non-refresh tokens are allowed")
    return claims


def _bearer_token(*, optional: bool) -> str | None:
    """The token of `Authorization: Bearer <token>` (messages as flask-jwt-extended's)."""
    name, kind = jwt_config.header_name, jwt_config.header_type
    header = request.headers.get(name, "").strip().strip(",")
    values = [v for v in re.split(r",\s*", header) if v and v.split()[0] == kind]
    if len(values) != 1:
        if optional:
            return None
        if not header:
            raise NoAuthorizationError(f"Missing {name} Header")
        raise NoAuthorizationError(
            f"Missing '{kind}' type in '{name}' header. Expected '{name}: {kind} <JWT>'"
        )
    parts = values[0].split()
    if len(parts) != 2:
        raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: {kind} <JWT>'")
    return parts[1]


#: Where each app keeps the tokens it verified (the environ of app.extensions).
_VERIFIED = "backend.verified_tokens"
_VERIFIED_MAX = 4096


def _decode(encoded: str) -> dict[str, Any]:
    """Verify a token, once per worker: a token whose signature verified stays verified, so
    later requests with it only re-check its expiry (PyJWT's decode is ~60 us, most of it
    checking the base64 alphabet). The session behind it is still checked on every request.
    """
    verified = current_app.extensions.setdefault(_VERIFIED, {})
    claims = verified.get(encoded)
    if claims is not None and claims.get("exp", float("inf")) > time.time() - jwt_config.leeway:
        return dict(claims)
    claims = _decode_with_pyjwt(encoded)
    if len(verified) >= _VERIFIED_MAX:
        verified.clear()
    verified[encoded] = claims
    return dict(claims)


def _decode_with_pyjwt(encoded: str) -> dict[str, Any]:
    """Verify signature and registered claims as flask-jwt-extended configures PyJWT."""
    audience = jwt_config.decode_audience
    try:
        claims = pyjwt.decode(
            encoded,
            jwt_config.decode_key,
            algorithms=jwt_config.decode_algorithms,
            audience=audience,
            issuer=jwt_config.decode_issuer,
            leeway=jwt_config.leeway,
            options={"verify_aud": audience is not None, "verify_sub": jwt_config.verify_sub},
        )
    except pyjwt.ExpiredSignatureError as error:
        # flask-jwt-extended's handler for this error reads both attributes.
        error.jwt_header = pyjwt.get_unverified_header(encoded)  # type: ignore[attr-defined]
        error.jwt_data = pyjwt.decode(  # type: ignore[attr-defined]
            encoded, options={"verify_signature": False}
        )
        raise
    if jwt_config.identity_claim_key not in claims:
        raise JWTDecodeError(f"Missing claim: {jwt_config.identity_claim_key}")
    claims.setdefault("type", "access")
    claims.setdefault("fresh", False)
    claims.setdefault("jti", None)
    return claims


def access_claims(environ: dict[str, Any]) -> dict[str, Any] | None:
    """The verified claims of a plain `Authorization: Bearer <access token>` header, for a
    fast path (needs an app context); None for anything else, which Flask then answers."""
    name, kind = jwt_config.header_name, jwt_config.header_type
    parts = environ.get("HTTP_" + name.upper().replace("-", "_"), "").split()
    if len(parts) != 2 or parts[0] != kind:
        return None
    try:
        claims = _decode(parts[1])
    except pyjwt.PyJWTError:
        return None
    return claims if claims["type"] == "access" else None


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
