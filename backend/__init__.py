"""The co-production participation platform: the Flask app factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(config_overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, error handling, blueprints and commands."""
    from backend import cli, models
    from backend.api import register_blueprints
    from backend.api.auth import register_jwt_callbacks
    from backend.api.certification import install_verify_fast_path
    from backend.api.errors import register_error_handlers
    from backend.api.participation import install_record_fast_path
    from backend.api.sessions import NoCookieSessionInterface
    from backend.api.transaction import register_transaction_hooks
    from backend.config import load_config
    from backend.database import configure_engine_events
    from backend.extensions import api, db, jwt, migrate
    from backend.operations import register_operations
    from backend.subscriptions import register_subscriptions

    app = Flask(__name__)
    app.config.from_mapping(load_config())
    app.config.from_mapping(config_overrides or {})
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.session_interface = NoCookieSessionInterface()

    db.init_app(app)
    configure_engine_events(app)
    migrate.init_app(app, db, directory=str(models.MIGRATIONS_DIR), render_as_batch=True)
    jwt.init_app(app)
    api.init_app(app, spec_kwargs={"components": {"schemas": {}}})
    register_jwt_callbacks(app)
    register_error_handlers(app)
    register_transaction_hooks(app)
    register_blueprints(app)
    install_verify_fast_path(app)
    install_record_fast_path(app)
    register_subscriptions(app)
    cli.register_commands(app)
    register_operations(app)
    return app
