"""SQL statements and rows per request of a write path, counted in-process (no timing).

``python -m bench.statements [--requests 50]`` prepares the participation-record data set on a
fresh SQLite file (bench.scenarios.participation_record.prepare_app), then sends requests
through Flask's test client and counts, per request, the statements the app's engine ran
(``before_cursor_execute``, BEGIN/COMMIT not included) and the rows each table gained. Paths:
an official's record (``POST /activities/{id}/participations`` with ``user_id``) and a
citizen joining (the same path, the citizen's own token). Counts are the same on PostgreSQL,
save the statements SQLite's writer lock adds (none: it is a file lock).
"""

from __future__ import annotations

import argparse
import collections
import statistics
import tempfile
from pathlib import Path
from typing import Any


def _table_counts(connection: Any, tables: list[str]) -> dict[str, int]:
    import sqlalchemy as sa

    return {t: connection.scalar(sa.text(f"SELECT COUNT(*) FROM {t}")) for t in tables}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.statements")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args(argv)
    from bench.scenarios import participation_record

    workdir = Path(tempfile.mkdtemp(prefix="bench-statements-"))
    env = participation_record.prepare_app(workdir)
    import os

    os.environ.update(env)
    import sqlalchemy as sa

    from backend import create_app
    from backend.api.auth import issue_tokens
    from backend.extensions import db
    from backend.identity.models import AuthSession, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]})
    lines = (workdir / "participation-bench-candidate.txt").read_text().split()
    token, count = lines[0], int(lines[1])
    activities, citizens = lines[2 : 2 + count], lines[2 + count :]
    seen: list[str] = []
    with app.app_context():
        engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
        tables = sorted(db.metadata.tables)
        citizen_tokens = {}
        for citizen_id in citizens[: args.requests]:
            user = db.session.get(User, citizen_id)
            session = db.session.scalar(
                sa.select(AuthSession).where(AuthSession.user_id == user.id)
            )
            citizen_tokens[citizen_id] = issue_tokens(user, session)["access_token"]
        db.session.remove()
    client = app.test_client()
    report = {}
    paths = {
        "official record": lambda n: (token, activities[n], {"user_id": citizens[n]}),
        "citizen join": lambda n: (
            citizen_tokens[citizens[n]],
            activities[n + args.requests],
            {},
        ),
    }
    for name, make in paths.items():
        statements, rows = [], collections.Counter()
        with engine.connect() as connection:
            before = _table_counts(connection, tables)
        for n in range(args.requests):
            bearer, activity_id, body = make(n)
            seen.clear()
            response = client.post(
                f"/api/v1/activities/{activity_id}/participations",
                json=body,
                headers={
                    "Authorization": f"Bearer {bearer}",
                    "Idempotency-Key": f"{name.replace(' ', '-')}-{n}",
                },
            )
            assert response.status_code == 201, response.get_data(as_text=True)
            statements.append(len(seen))
        with engine.connect() as connection:
            after = _table_counts(connection, tables)
        for table in tables:
            if after[table] != before[table]:
                rows[table] = (after[table] - before[table]) / args.requests
        report[name] = (statistics.median(statements), dict(rows))
    for name, (statements, rows) in report.items():
        total = sum(rows.values())
        print(f"{name}: {statements:g} statements per request (median); rows per request "
              f"{total:g}: {rows}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
