"""The co-production participation platform: the Flask app factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def create_app(config_overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, error handling, blueprints and commands."""
    from backend import cli, console, models
    from backend.api import register_blueprints
    from backend.api.errors import register_error_handlers
    from backend.api.request_rules import register_request_rules
    from backend.api.sessions import NoCookieSessionInterface
    from backend.api.transaction import register_transaction_hooks
    from backend.config import load_config
    from backend.database import configure_engine_events
    from backend.extensions import api, db, migrate
    from backend.identity.session_cache import watch_changes
    from backend.operations import register_operations
    from backend.subscriptions import register_subscriptions
    from backend.verifier.views import register_verifier_app

    app = Flask(__name__)
    app.config.from_mapping(load_config())
    app.config.from_mapping(config_overrides or {})
    app.session_interface = NoCookieSessionInterface()

    db.init_app(app)
    configure_engine_events(app)
    watch_changes()
    migrate.init_app(app, db, directory=str(models.MIGRATIONS_DIR), render_as_batch=True)
    api.init_app(app, spec_kwargs={"components": {"schemas": {}}})
    register_error_handlers(app)
    register_request_rules(app)
    register_transaction_hooks(app)
    register_blueprints(app)
    app.register_blueprint(console.bp)
    install_proxy_fix(app)
    register_verifier_app(app)
    register_subscriptions(app)
    cli.register_commands(app)
    register_operations(app)
    return app


def install_proxy_fix(app: Flask) -> None:
    """Trust `X-Forwarded-For` from the TRUSTED_PROXY_COUNT proxies in front of the app (none
    by default), so `request.remote_addr` is the client's address (werkzeug's ProxyFix)."""
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)  # type: ignore[method-assign]
