"""SQL statements and rows per request of the write paths, counted in-process (no timing).

``python -m bench.statements [--requests 50] [--show record]`` prepares each path's data set on
a fresh SQLite file (bench.scenarios.write_paths.prepare: the benchmark's own requests), then
sends requests through Flask's test client and counts, per request, the statements the app's
engine ran (``before_cursor_execute``; BEGIN/COMMIT not included) and the rows each table
gained (rows changed in place, e.g. a seat counter, are not rows written). Paths: an
official's record, a citizen joining an activity, a citizen registering for a meeting, a
ticket's first scan at the door. ``--show PATH`` prints the statements of one request of that
path. PostgreSQL runs the same statements (SQLite's writer lock is a file lock, not a
statement).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

PATHS = {
    "official record": "record",
    "citizen join": "join",
    "meeting registration": "register",
    "door check-in": "check-in",
}


def _table_counts(connection: Any, tables: list[str]) -> dict[str, int]:
    import sqlalchemy as sa

    return {t: connection.scalar(sa.text(f"SELECT COUNT(*) FROM {t}")) for t in tables}


def count(path: str, requests: int, *, show: bool = False) -> tuple[float, dict[str, float]]:
    """(median statements per request, rows per request by table) of one path."""
    import sqlalchemy as sa

    from bench.scenarios import write_paths

    workdir = Path(tempfile.mkdtemp(prefix=f"bench-statements-{path}-"))
    os.environ.pop("BENCH_APP_DATABASE_URL", None)
    write_paths.REQUESTS = requests
    env = write_paths.prepare(workdir, path=path, side="candidate")
    os.environ.update(env)
    from backend import create_app
    from backend.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]})
    logging.getLogger("coproduction").setLevel(logging.WARNING)  # no request log lines here
    lines = (workdir / f"write-{path}-candidate.txt").read_text().splitlines()
    seen: list[str] = []
    with app.app_context():
        engine = db.engine
        tables = sorted(db.metadata.tables)
    sa.event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    client = app.test_client()
    statements: list[int] = []
    with engine.connect() as connection:
        before = _table_counts(connection, tables)
    for n, line in enumerate(lines[:requests]):
        url, token, body = line.split("\t")
        seen.clear()
        response = client.post(
            url,
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"{path}-{n}"},
        )
        assert 200 <= response.status_code < 300, response.get_data(as_text=True)
        if path == "check-in":
            assert json.loads(response.get_data())["already_checked_in"] is False
        statements.append(len(seen))
        if show and n == requests // 2:
            print(f"--- {path}: {len(seen)} statements")
            for text in seen:
                print("  " + " ".join(text.split())[:160])
    with engine.connect() as connection:
        after = _table_counts(connection, tables)
    rows = {t: (after[t] - before[t]) / requests for t in tables if after[t] != before[t]}
    engine.dispose()
    return statistics.median(statements), rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.statements")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--show", choices=sorted(PATHS.values()), action="append", default=[])
    parser.add_argument("paths", nargs="*", help="record, join, register, check-in (default: all)")
    args = parser.parse_args(argv)
    report = {}
    for name, path in PATHS.items():
        if args.paths and path not in args.paths:
            continue
        report[name] = count(path, args.requests, show=path in args.show)
    for name, (statements, rows) in report.items():
        total = sum(rows.values())
        print(f"{name}: {statements:g} statements per request (median); rows per request "
              f"{total:g}: {rows}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
