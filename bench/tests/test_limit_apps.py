"""The limit apps write what the real app writes: the same rows per request, per table."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.test import Client

from bench import limit_apps, statements
from bench.scenarios import write_paths

FACTORIES = {
    "record": limit_apps.create_record_app,
    "join": limit_apps.create_join_app,
    "register": limit_apps.create_register_app,
    "check-in": limit_apps.create_check_in_app,
}
REQUESTS = 3


def _limit_rows(path: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    monkeypatch.delenv("BENCH_LIMIT_DATABASE_URL", raising=False)
    monkeypatch.setattr(write_paths, "REQUESTS", REQUESTS)
    env = write_paths.prepare(workdir, path=path, side="limit")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = Client(FACTORIES[path]())
    engine = sa.create_engine(env["DATABASE_URL"])
    tables = sa.inspect(engine).get_table_names()
    with engine.connect() as connection:
        before = statements._table_counts(connection, tables)
    lines = (workdir / f"write-{path}-limit.txt").read_text().splitlines()
    for n, line in enumerate(lines[:REQUESTS]):
        url, token, body = line.split("\t")
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"k{n}"}
        answer = client.post(url, data=body, headers=headers, content_type="application/json")
        assert 200 <= answer.status_code < 300, answer.get_data(as_text=True)
    with engine.connect() as connection:
        after = statements._table_counts(connection, tables)
    engine.dispose()
    return {t: (after[t] - before[t]) / REQUESTS for t in tables if after[t] != before[t]}


@pytest.mark.parametrize("path", sorted(FACTORIES))
def test_limit_app_writes_the_rows_the_app_writes(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "environ", dict(os.environ))  # prepare() sets variables for wrk
    _statements, app_rows = statements.count(path, REQUESTS)
    assert _limit_rows(path, tmp_path, monkeypatch) == app_rows
