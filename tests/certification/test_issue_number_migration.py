"""Migration 0011 gives every existing certificate a checked issue number."""

from __future__ import annotations

import flask_migrate
import sqlalchemy as sa

from backend import create_app
from backend.certification.issue_number import normalize_issue_number
from backend.cli import seed_demo_data
from backend.extensions import db


def test_existing_certificates_get_distinct_checked_numbers(tmp_path) -> None:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'backfill.db'}", "TESTING": True}
    )
    with app.app_context():
        flask_migrate.upgrade()
        seed_demo_data()  # issues 홍길동's demo certificate
        db.session.remove()
        flask_migrate.downgrade(revision="0010")  # the revision before 0011
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("certificates")}
        assert "issue_number" not in columns
        flask_migrate.upgrade()
        numbers = db.session.scalars(sa.text("SELECT issue_number FROM certificates")).all()
        db.session.remove()
    assert len(numbers) >= 1
    assert len(set(numbers)) == len(numbers)
    assert all(normalize_issue_number(number) == number for number in numbers)
