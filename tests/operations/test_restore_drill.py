"""The restore drill: back up a live database, destroy it, restore it; every count matches, an
old certificate still verifies and a new one can be issued. On SQLite always; on PostgreSQL
(pg_dump / pg_restore, as README's runbook does it) when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from backend import create_app
from backend.certification import services as certification
from backend.certification.models import Certificate, CertificateKind
from backend.cli import seed_demo_data
from backend.extensions import db
from backend.identity.models import User
from backend.operations.backup import libpq_url


def _counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def _drill(app: Flask, backup: Path, destroy: Callable[[], None], restore: Callable[[], None]):
    with app.app_context():
        upgrade()
        seed_demo_data()
        old = db.session.scalars(sa.select(Certificate)).one()
        old_text = old.qr_text
        before = _counts()
        assert before["users"] >= 9 and before["certificates"] == 1

        result = app.test_cli_runner().invoke(args=["backup", "--output", str(backup)])
        assert result.exit_code == 0, result.output
        assert backup.exists() and oct(backup.stat().st_mode & 0o777) == "0o600"
        db.session.remove()
        db.engine.dispose()

    destroy()
    with app.app_context():
        assert not sa.inspect(db.engine).has_table("users")  # really gone
        db.engine.dispose()
    restore()

    app.extensions.pop("certification_registry", None)  # a restarted server starts empty
    with app.app_context():
        assert _counts() == before
        assert certification.verify_text(old_text, app=app)["status"] == "valid"
        holder = db.session.scalar(sa.select(User).where(User.email == "citizen2@gangnam.example"))
        official = db.session.scalar(
            sa.select(User).where(User.email == "official@gangnam.example")
        )
        new = certification.issue_certificate(
            user=holder, kind=CertificateKind.MODEL_CITIZEN, actor=official
        )
        db.session.commit()
        assert certification.verify_text(new.qr_text, app=app)["status"] == "valid"
        db.session.remove()
        db.engine.dispose()


def _app(url: str) -> Flask:
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})


def test_sqlite_restore_drill(tmp_path):
    database = tmp_path / "live.db"
    backup = tmp_path / "backups" / "nightly.db"
    app = _app(f"sqlite:///{database}")

    def destroy() -> None:
        for path in tmp_path.glob("live.db*"):
            path.unlink()

    def restore() -> None:
        shutil.copyfile(backup, database)  # README: stop the services, copy, start

    _drill(app, backup, destroy, restore)


@pytest.fixture
def drill_postgres_url() -> Iterator[str]:
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        pytest.skip("PostgreSQL drill: set TEST_DATABASE_URL (the SQLite drill runs always)")
    name = f"drill_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres_only
def test_postgresql_restore_drill(tmp_path, drill_postgres_url):
    url = sa.make_url(drill_postgres_url)
    backup = tmp_path / "nightly.dump"
    app = _app(drill_postgres_url)

    def destroy() -> None:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()

    def restore() -> None:
        env = {**os.environ, "PGPASSWORD": str(url.password or "")}
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq_url(url)}", backup],
            check=True,
            env=env,
        )

    _drill(app, backup, destroy, restore)


def test_backup_keeps_recent_files_and_prunes_old_ones(tmp_path):
    database = tmp_path / "live.db"
    app = _app(f"sqlite:///{database}")
    folder = tmp_path / "backups"
    folder.mkdir()
    old = folder / "coproduction-20200101T000000Z.db"
    recent = folder / "coproduction-20990101T000000Z.db"
    unrelated = folder / "notes.txt"
    for path in (old, recent, unrelated):
        path.write_text("x")
    os.utime(old, (1, 1))
    os.utime(unrelated, (1, 1))
    with app.app_context():
        upgrade()
        result = app.test_cli_runner().invoke(
            args=["backup", "--output", str(folder / "coproduction-new.db"), "--keep-days", "7"]
        )
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == [
        "coproduction-20990101T000000Z.db",
        "coproduction-new.db",
        "notes.txt",
    ]
