"""Migrations are the truth: the test schema is built by them, and they match the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from backend.extensions import db
from backend.models import MIGRATIONS_DIR

# Alembic and the inspector need a connection of their own.
pytestmark = pytest.mark.real_commits


def test_schema_is_at_the_single_head(app, ctx):
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    heads = script.get_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}"
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    assert current == heads[0]


def test_models_and_migrations_agree(app, ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "models differ from migrations: run `flask db migrate`"
