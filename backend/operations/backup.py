"""`flask backup`: a consistent copy of the database while the server runs.

SQLite: SQLite's online backup API (`sqlite3.Connection.backup`) copies the database page by
page inside one read transaction, so writers go on (WAL) and the copy is one consistent moment.
PostgreSQL: `pg_dump --format=custom` (one snapshot); restore with `pg_restore` as README's
runbook says.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from backend.config import INSTANCE_DIR


def default_target(url: sa.URL, directory: Path) -> Path:
    """`<directory>/coproduction-<UTC time>.db` (SQLite) or `.dump` (PostgreSQL)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "db" if url.get_backend_name() == "sqlite" else "dump"
    return directory / f"coproduction-{stamp}.{suffix}"


def backup_sqlite(database: Path, target: Path) -> None:
    """Copy a live SQLite database into `target` with the online backup API (atomic rename)."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    partial.chmod(0o600)
    partial.replace(target)


def libpq_url(url: sa.URL) -> str:
    """The SQLAlchemy URL as a libpq connection URI (no `+psycopg2` driver part)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def backup_postgresql(url: sa.URL, target: Path) -> None:
    """Run `pg_dump --format=custom` into `target` (atomic rename)."""
    if shutil.which("pg_dump") is None:
        raise click.ClickException("pg_dump is missing (Debian: apt-get install postgresql-client)")
    partial = target.with_name(target.name + ".partial")
    # The password goes through the environment, not the command line (visible in ps).
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    command = [
        "pg_dump",
        "--format=custom",
        "--no-owner",
        f"--file={partial}",
        f"--dbname={libpq_url(url.set(password=None))}",
    ]
    finished = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"pg_dump failed: {finished.stderr.strip()[-500:]}")
    partial.chmod(0o600)
    partial.replace(target)


def prune_backups(directory: Path, *, keep_days: int, keep: Path) -> list[Path]:
    """Delete `coproduction-*` backups in `directory` older than `keep_days` (never `keep`)."""
    cutoff = time.time() - keep_days * 86400
    removed = []
    for path in directory.glob("coproduction-*"):
        if path != keep and path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink()
            removed.append(path)
    return removed


def backup_database(url: sa.URL, target: Path) -> Path:
    """Back up the database at `url` into `target`; returns the file written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise click.ClickException("an in-memory SQLite database cannot be backed up")
        backup_sqlite(Path(url.database), target)
    elif backend == "postgresql":
        backup_postgresql(url, target)
    else:
        raise click.ClickException(f"no backup procedure for {backend}")
    return target


@click.command("backup")
@click.option(
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: instance/backups/coproduction-<UTC time>.db|.dump).",
)
@click.option(
    "--keep-days",
    type=click.IntRange(min=1),
    default=None,
    help="Then delete this folder's earlier coproduction-* backups older than this many days.",
)
@with_appcontext
def backup_command(output: Path | None, keep_days: int | None) -> None:
    """Back up the database while the server runs (SQLite: online backup; PostgreSQL: pg_dump)."""
    url = sa.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    target = output or default_target(url, INSTANCE_DIR / "backups")
    written = backup_database(url, target)
    click.echo(f"Backed up to {written} ({written.stat().st_size} bytes).")
    if keep_days is not None:
        removed = prune_backups(written.parent, keep_days=keep_days, keep=written)
        click.echo(f"Removed {len(removed)} backups older than {keep_days} days.")
    click.echo("The certificate key secret is not in it: keep CERTIFICATE_KEY_SECRET apart.")


def register_backup(app: Flask) -> None:
    """Add `flask backup`."""
    app.cli.add_command(backup_command)
