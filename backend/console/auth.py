"""Console login on the API's login sessions, CSRF tokens, and who may open which page.

The console cookie carries only a signed (user id, session id) pair; every request loads the
`auth_sessions` row and the user from the database (`load_session_user`, as the API's token
check does), so a logout, a lock-out, a deactivation or a change of role takes effect on the very
next page. A page admits exactly the roles of the API view it mirrors (`mirrors`), read from that
view's `requires` decorator, so the role rules exist once.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from hashlib import sha256
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.exceptions import HTTPException

from backend.api.errors import status_of
from backend.console import bp
from backend.console.i18n import LANG_COOKIE, current_language, error_text, label, t
from backend.errors import DomainError, NotFound, PermissionDenied
from backend.extensions import db
from backend.identity.models import AuthSession, User
from backend.identity.services import attempt_login, end_session, load_session_user
from backend.permissions import STAFF_ROLES, Role

F = TypeVar("F", bound=Callable[..., Any])

SESSION_COOKIE = "console_session"
#: Before login there is no session to bind a token to: a random one in a cookie, echoed by the
#: form (double submit).
LOGIN_CSRF_COOKIE = "console_login_csrf"
#: Who may sign in to the console at all: staff. Citizens have the app.
CONSOLE_ROLES = STAFF_ROLES
#: Pages anyone may open (the login form and the static files).
PUBLIC_ENDPOINTS = frozenset({"console.login", "console.static"})


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="console-session")


def _secure_cookies() -> bool:
    # Secure everywhere but the debug and test servers, which speak plain http.
    return not (current_app.debug or current_app.testing)


def csrf_token() -> str:
    """The form token of this login session (or of the login form before one exists)."""
    session = g.get("console_session")
    if session is None:
        token = g.get("login_csrf") or request.cookies.get(LOGIN_CSRF_COOKIE)
        if not token:
            token = secrets.token_urlsafe(24)
        g.login_csrf = token
        return token
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"console-csrf:{session.id}".encode(), sha256).hexdigest()


def _csrf_ok() -> bool:
    sent = request.form.get("csrf_token", "")
    return bool(sent) and hmac.compare_digest(sent, csrf_token())


def current_user() -> User:
    """The signed-in user of this console request (role and municipality as stored now)."""
    return g.console_user


def mirrors(*views: Callable[..., Any]) -> Callable[[F], F]:
    """Admit the roles the given API views admit (their `requires`), and nobody else."""
    roles = frozenset().union(*(view.access.roles for view in views))

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user().role not in roles:
                raise PermissionDenied("Your role may not do this.")
            return fn(*args, **kwargs)

        wrapper.console_roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def may_open(endpoint: str) -> bool:
    """Whether the signed-in user's role may open a console page (for menus and buttons)."""
    view = current_app.view_functions.get(endpoint)
    roles = getattr(view, "console_roles", None)
    user = g.get("console_user")
    return user is not None and roles is not None and user.role in roles


@bp.before_request
def load_console_user() -> Response | None:
    """Load the login session behind the cookie; send strangers to the login page."""
    g.console_user = g.console_session = g.login_csrf = None
    loaded = _session_from_cookie()
    if loaded is not None:
        g.console_user, g.console_session = loaded
    if request.method == "POST" and not _csrf_ok():
        abort(400, description="csrf")
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if loaded is None:
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    if g.console_user.role not in CONSOLE_ROLES:
        raise PermissionDenied("Staff only.", code="console_staff_only")
    return None


def _session_from_cookie() -> tuple[User, AuthSession] | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        user_id, session_id = _serializer().loads(raw)
    except (BadSignature, ValueError, TypeError):
        return None
    return load_session_user(user_id=str(user_id), session_id=str(session_id))


@bp.after_request
def console_headers(response: Response) -> Response:
    """Keep the language asked for; forbid framing and anything but this host's files."""
    if request.args.get("lang") in ("ko", "en"):
        response.set_cookie(
            LANG_COOKIE, request.args["lang"], max_age=365 * 86400, samesite="Lax", httponly=True
        )
    if g.get("login_csrf") and g.get("console_session") is None:
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            g.login_csrf,
            httponly=True,
            samesite="Strict",
            secure=_secure_cookies(),
            path="/console",
        )
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.app_context_processor
def template_helpers() -> dict[str, Any]:
    """What every console template may call."""
    return {
        "t": t,
        "label": label,
        "lang": current_language,
        "csrf_token": csrf_token,
        "may_open": may_open,
        "console_user": lambda: g.get("console_user"),
        "Role": Role,
    }


def _error_page(status: int, message: str) -> Response:
    response = make_response(render_template("console/error.html", message=message), status)
    return response


@bp.errorhandler(DomainError)
def domain_error_page(error: DomainError) -> Response:
    """A refused or missing thing as a page (the transaction hook rolls back on 4xx)."""
    if isinstance(error, NotFound):
        return _error_page(404, t("error.not_found"))
    if isinstance(error, PermissionDenied):
        text = t("auth.staff_only") if error.code == "console_staff_only" else t("error.forbidden")
        return _error_page(403, text)
    # Any other refusal keeps the API's status for it (422 for input, 409 for a state, ...).
    return _error_page(status_of(error), error_text(error.code, error.message))


@bp.errorhandler(HTTPException)
def http_error_page(error: HTTPException) -> Response:
    """Framework errors (a bad form token, an unknown page) as pages, not JSON."""
    if error.code == 400 and error.description == "csrf":
        return _error_page(400, t("error.csrf"))
    if error.code == 404:
        return _error_page(404, t("error.not_found"))
    return _error_page(error.code or 500, error.name)


def _safe_next(target: str | None) -> str:
    # Only a path inside the console: never an open redirect to another host.
    if target and target.startswith("/console/") and not urlsplit(target).netloc:
        return target
    return url_for("console.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login form; on success, a console cookie bound to a new login session."""
    if request.method == "GET":
        if g.console_user is not None and g.console_user.role in CONSOLE_ROLES:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("console/login.html", next=request.args.get("next", ""))
    identifier = request.form.get("identifier", "")
    password = request.form.get("password", "")
    result = attempt_login(
        identifier=identifier, password=password, user_agent=request.user_agent.string
    )
    if result.error is not None:
        db.session.commit()  # the failure counter outlives the refused request, as in the API
        status = 429 if result.error.code == "account_locked" else 401
        message = error_text(result.error.code, result.error.message)
        return make_response(
            render_template(
                "console/login.html",
                error=message,
                identifier=identifier,
                next=request.form.get("next", ""),
            ),
            status,
        )
    if result.user.role not in CONSOLE_ROLES:
        # No console session for citizens: end the login at once.
        end_session(session=result.session)
        db.session.commit()
        return _error_page(403, t("auth.staff_only"))
    response = redirect(_safe_next(request.form.get("next")), code=303)
    response.set_cookie(
        SESSION_COOKIE,
        _serializer().dumps([result.user.id, result.session.id]),
        httponly=True,
        samesite="Strict",
        secure=_secure_cookies(),
        path="/console",
        max_age=int(current_app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds()),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    """End the login session (its tokens stop working everywhere) and forget the cookie."""
    end_session(session=g.console_session)
    response = redirect(url_for("console.login"), code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


@bp.route("/")
def home() -> Any:
    """The start page: who is signed in and what they can open."""
    return render_template("console/home.html")
