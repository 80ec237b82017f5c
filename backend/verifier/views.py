"""Serve the verifier web app: its static shell, the QR decoder from the lockfile, its settings.

The app is vanilla ES modules (no build step); the only third-party file is jsQR, installed by
`npm ci` in verifier/ (see `make install`) and served from verifier/node_modules. Everything the
app shows comes from the public API (keys, status lists, municipalities) and, for door check-in,
the logged-in API; this blueprint holds no rule of its own.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    send_from_directory,
)

from backend.api.auth import public
from backend.config import PROJECT_ROOT

APP_DIR = PROJECT_ROOT / "verifier" / "app"
JSQR_FILE = PROJECT_ROOT / "verifier" / "node_modules" / "jsqr" / "dist" / "jsQR.js"
#: The files of the shell; anything else under /verify/ is a 404 (nothing else leaks out).
SHELL_FILES = frozenset(
    {
        "index.html",
        "app.js",
        "verify.js",
        "ticket.js",
        "trust.js",
        "scan.js",
        "i18n.js",
        "door.js",
        "style.css",
        "sw.js",
        "manifest.webmanifest",
        "icon.svg",
    }
)
_TYPES = {".webmanifest": "application/manifest+json", ".js": "text/javascript"}

bp = Blueprint("verifier_app", __name__)


@bp.get("/verify")
@public
def verify_root() -> Response:
    """The app lives under /verify/ (the service worker's scope needs the slash)."""
    return redirect("/verify/", code=308)


@bp.get("/verify/")
@bp.get("/verify/<name>")
@public
def shell_file(name: str = "index.html") -> Response:
    """A file of the app shell; revalidated on every load so a new version is seen at once."""
    if name not in SHELL_FILES:
        abort(404)
    response = send_from_directory(APP_DIR, name, mimetype=_TYPES.get(Path(name).suffix), max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    if name == "sw.js":
        response.headers["Service-Worker-Allowed"] = "/verify/"
    return response


@bp.get("/verify/vendor/jsQR.js")
@public
def jsqr() -> Response:
    """The bundled QR decoder (jsQR from verifier/package-lock.json), the camera's fallback."""
    if not JSQR_FILE.is_file():
        abort(404, description="Run `make install` (npm ci in verifier/) to get the QR decoder.")
    response = send_from_directory(JSQR_FILE.parent, JSQR_FILE.name, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/verify/config.json")
@public
def app_config() -> Response:
    """The app's settings: how often to refresh trust data, when it counts as stale."""
    config = current_app.config
    response = jsonify(
        {
            "refresh_seconds": config["VERIFIER_REFRESH_SECONDS"],
            "grace_seconds": config["VERIFIER_GRACE_SECONDS"],
            "clock_tolerance_seconds": config["VERIFIER_CLOCK_TOLERANCE_SECONDS"],
        }
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


def register_verifier_app(app: Flask) -> None:
    """Serve the verifier app under /verify/ (outside the API contract: it is pages)."""
    app.register_blueprint(bp)
