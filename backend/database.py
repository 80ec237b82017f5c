"""Engine settings per database: SQLite pragmas for the embedded mode."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event

from backend.extensions import db


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; NORMAL sync is safe in WAL and much faster;
    # busy_timeout makes a second writer wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=10000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def configure_engine_events(app: Flask) -> None:
    """Install per-connection settings for the configured database."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
