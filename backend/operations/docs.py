"""The browsable API reference (Swagger UI) at /docs/ and a small index page at /.

Swagger UI's files come from the `flask-swagger-ui` package (MIT, Swagger UI's own Apache-2.0
licence ships beside its files in the package's dist/ folder): the platform serves them itself,
so the reference works on a network without access to any CDN.
"""

from __future__ import annotations

import os
from html import escape

from flask import Blueprint, Flask, Response, abort, render_template_string, send_from_directory

from backend.api.auth import public

DOCS_PATH = "/docs"
OPENAPI_URL = "/api/v1/openapi.json"

#: The files Swagger UI needs; anything else under /docs/ is a 404 in the one error shape.
_ASSETS = frozenset(
    {
        "swagger-ui.css",
        "index.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
        "favicon-16x16.png",
        "LICENSE",
    }
)

_PAGE = """<!DOCTYPE html>
<html lang="ko">
<head>
  <meta charset="utf-8">
  <title>{{ title }} · API</title>
  <link rel="stylesheet" href="{{ base }}/swagger-ui.css">
  <link rel="stylesheet" href="{{ base }}/index.css">
  <link rel="icon" type="image/png" href="{{ base }}/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{{ base }}/swagger-ui-bundle.js"></script>
  <script src="{{ base }}/swagger-ui-standalone-preset.js"></script>
  <script src="{{ base }}/init.js"></script>
</body>
</html>
"""

# A file rather than an inline script, so a Content-Security-Policy without 'unsafe-inline'
# (the nginx site in deploy/ sends one) still lets the page start.
_INIT_JS = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "OPENAPI_URL",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  });
};
""".replace("OPENAPI_URL", OPENAPI_URL)

_INDEX = """<!DOCTYPE html>
<html lang="ko">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
  <h1>{title}</h1>
  <p>공동생산 참여 플랫폼 API (co-production participation platform API).</p>
  <ul>
    <li><a href="{docs}/">API 문서 (API reference)</a></li>
    <li><a href="{openapi}">OpenAPI 3 (openapi.json)</a></li>
    <li><a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a></li>
  </ul>
</body>
</html>
"""

blueprint = Blueprint("docs", __name__)


def _dist_dir() -> str:
    import flask_swagger_ui

    return os.path.join(os.path.dirname(flask_swagger_ui.__file__), "dist")


@blueprint.get("/")
@public
def index() -> Response:
    """A landing page that links the API reference and the contract."""
    from flask import current_app

    html = _INDEX.format(
        title=escape(current_app.config["API_TITLE"]), docs=DOCS_PATH, openapi=OPENAPI_URL
    )
    return Response(html, content_type="text/html; charset=utf-8")


@blueprint.get(f"{DOCS_PATH}/")
@public
def reference() -> str:
    """Swagger UI over the mobile contract."""
    from flask import current_app

    return render_template_string(_PAGE, title=current_app.config["API_TITLE"], base=DOCS_PATH)


@blueprint.get(f"{DOCS_PATH}/init.js")
@public
def reference_init() -> Response:
    """The script that starts Swagger UI on the contract."""
    return Response(_INIT_JS, content_type="text/javascript; charset=utf-8")


@blueprint.get(f"{DOCS_PATH}/<asset>")
@public
def reference_asset(asset: str) -> Response:
    """Swagger UI's own files, from the installed package (cached by browsers for a day)."""
    if asset not in _ASSETS:
        abort(404)
    response = send_from_directory(_dist_dir(), asset, max_age=86400)
    if asset == "LICENSE":
        response.content_type = "text/plain; charset=utf-8"
    return response


def register_docs(app: Flask) -> None:
    """Serve /, /docs/ and Swagger UI's files."""
    app.register_blueprint(blueprint)
