"""Authentication: bearer tokens (PyJWT) and the one decorator every view uses to say who may
call it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

import jwt as pyjwt
from flask import current_app, g, request

from backend.clock import utcnow
from backend.errors import PermissionDenied, Unauthenticated
from backend.identity.models import AuthSession, User
from backend.identity.services import load_session_user, session_admits
from backend.identity.session_cache import session_cache
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


#: Tokens are HS256 JWTs made and checked with PyJWT only (the one JWT library).
ALGORITHM = "HS256"
#: Clock skew tolerated when checking exp and nbf.
LEEWAY_SECONDS = 0
#: Methods that never need a token check here (CORS preflight).
_EXEMPT_METHODS = frozenset({"OPTIONS"})


class TokenRefused(Unauthenticated):
    """A missing, malformed, expired or revoked bearer token: 401 with the reason as its code."""


def _refused(code: str, message: str) -> TokenRefused:
    return TokenRefused(message, code=code)


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

    Checks the signature, expiry, the identity claim, the token type and the login session
    (from the database: a logout or a demotion takes effect on the very next request). The
    token is verified once per request; the Idempotency-Key check and the view share the
    result.
    """
    if request.method in _EXEMPT_METHODS:
        return None
    claims = request.environ.get(TOKEN_CLAIMS)
    if claims is None:
        encoded = _bearer_token(optional=optional)
        if encoded is None:
            return None
        claims = _decode(encoded)
        if not _load_caller(claims):
            raise _refused("token_revoked", "The token was revoked.")
        request.environ[TOKEN_CLAIMS] = claims
    if refresh != (claims["type"] == "refresh"):
        raise _refused("token_invalid", "The token is not valid.")
    return claims


def _bearer_token(*, optional: bool) -> str | None:
    """The token of `Authorization: Bearer <token>`."""
    header = request.headers.get("Authorization", "").strip().strip(",")
    values = [v for v in header.split(",") if v.split() and v.split()[0] == "Bearer"]
    if len(values) != 1:
        if optional:
            return None
        raise _refused("token_missing", "A bearer token is required.")
    parts = values[0].split()
    if len(parts) != 2:
        raise _refused("token_invalid", "The token is not valid.")
    return parts[1]


#: Where each app keeps the tokens it verified (in app.extensions).
_VERIFIED = "backend.verified_tokens"
_VERIFIED_MAX = 4096


def _decode(encoded: str) -> dict[str, Any]:
    """Verify a token, once per worker: a token whose signature verified stays verified, so
    later requests with it only re-check its expiry (PyJWT's decode is ~60 us, most of it
    checking the base64 alphabet). The session behind it is still checked on every request.
    """
    verified = current_app.extensions.setdefault(_VERIFIED, {})
    claims = verified.get(encoded)
    if claims is not None and claims["exp"] > time.time() - LEEWAY_SECONDS:
        return dict(claims)
    claims = _decode_with_pyjwt(encoded)
    if len(verified) >= _VERIFIED_MAX:
        verified.clear()
    verified[encoded] = claims
    return dict(claims)


def _decode_with_pyjwt(encoded: str) -> dict[str, Any]:
    """Signature, exp and nbf checked; sub, exp and a known type required."""
    try:
        claims = pyjwt.decode(
            encoded,
            current_app.config["JWT_SECRET_KEY"],
            algorithms=[ALGORITHM],
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub", "type"]},
        )
    except pyjwt.ExpiredSignatureError:
        raise _refused("token_expired", "The token has expired.") from None
    except pyjwt.PyJWTError:
        raise _refused("token_invalid", "The token is not valid.") from None
    if claims["type"] not in ("access", "refresh") or not isinstance(claims["sub"], str):
        raise _refused("token_invalid", "The token is not valid.")
    return claims


def signed_in(fn: F) -> F:
    """Any signed-in user, whatever the role."""
    return requires(*ALL_ROLES)(fn)


def current_caller() -> User:
    """The user of the verified token, as loaded from the database for this request."""
    return g.caller


def current_session() -> AuthSession:
    """The login session of the verified token."""
    return g.caller_session


def _encode(user: User, session: AuthSession, kind: str, lifetime: timedelta) -> str:
    now = int(time.time())
    claims = {
        "sub": user.id,
        "sid": session.id,
        "type": kind,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + int(lifetime.total_seconds()),
    }
    return pyjwt.encode(claims, current_app.config["JWT_SECRET_KEY"], algorithm=ALGORITHM)


def issue_tokens(user: User, session: AuthSession) -> dict[str, Any]:
    """An access and a refresh token bound to one login session."""
    config = current_app.config
    return {
        "access_token": _encode(user, session, "access", config["JWT_ACCESS_TOKEN_EXPIRES"]),
        "refresh_token": _encode(user, session, "refresh", config["JWT_REFRESH_TOKEN_EXPIRES"]),
        "token_type": "Bearer",
    }


def issue_access_token(user: User, session: AuthSession) -> dict[str, Any]:
    """A new access token for a session (the refresh flow)."""
    token = _encode(user, session, "access", current_app.config["JWT_ACCESS_TOKEN_EXPIRES"])
    return {"access_token": token, "token_type": "Bearer"}


def _load_caller(jwt_payload: dict[str, Any]) -> bool:
    """Load user and session once per request; False when the token must be refused.

    The pair comes from this worker's copy while the auth state version is unchanged
    (`backend.identity.session_cache`), else from the database; either way it is checked
    against the clock here, so an expired login is refused whatever the copy says.
    """
    session_id = jwt_payload.get("sid")
    cached = g.get("caller_session")
    if cached is not None and cached.id == session_id:
        return True
    if not session_id:
        return False
    cache = session_cache()
    pair = cache.lookup(jwt_payload["sub"], session_id)
    if pair is None:
        pair = load_session_user(user_id=jwt_payload["sub"], session_id=session_id)
        if pair is None:
            return False
        cache.store(*pair)
    elif not session_admits(pair[1], pair[0], now=utcnow()):
        return False
    g.caller, g.caller_session = pair
    return True
