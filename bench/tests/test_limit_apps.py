"""The limit apps write what the real app writes: the same rows per request, per table."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

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


def _prepared(
    path: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Client, dict[str, str]]:
    """The limit app of ``path`` on its prepared data set (its requests in the data file)."""
    monkeypatch.delenv("BENCH_LIMIT_DATABASE_URL", raising=False)
    monkeypatch.setattr(write_paths, "REQUESTS", REQUESTS)
    env = write_paths.prepare(workdir, path=path, side="limit")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Client(FACTORIES[path]()), env


def _post(client: Client, line: str, key: str, body: str | None = None) -> Any:
    url, token, sent = line.split("\t")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    return client.post(url, data=body or sent, headers=headers, content_type="application/json")


def _limit_rows(path: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    client, env = _prepared(path, workdir, monkeypatch)
    engine = sa.create_engine(env["DATABASE_URL"])
    tables = sa.inspect(engine).get_table_names()
    with engine.connect() as connection:
        before = statements._table_counts(connection, tables)
    lines = (workdir / f"write-{path}-limit.txt").read_text().splitlines()
    for n, line in enumerate(lines[:REQUESTS]):
        answer = _post(client, line, f"k{n}")
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


def test_register_limit_answers_the_ticket_the_app_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "environ", dict(os.environ))
    client, env = _prepared("register", tmp_path, monkeypatch)
    line = (tmp_path / "write-register-limit.txt").read_text().splitlines()[0]
    answer = _post(client, line, "k0")
    assert answer.status_code == 201, answer.get_data(as_text=True)
    ticket = answer.get_json()["ticket"]
    from backend import create_app
    from backend.committees.models import Registration
    from backend.committees.tickets import make_ticket
    from backend.extensions import db

    with create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]}).app_context():
        registration = db.session.get(Registration, answer.get_json()["id"])
        assert ticket.startswith("MT2:") and ticket == make_ticket(registration)
        db.engine.dispose()


def test_check_in_limit_refuses_a_ticket_the_app_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "environ", dict(os.environ))
    client, _env = _prepared("check-in", tmp_path, monkeypatch)
    first, second = (tmp_path / "write-check-in-limit.txt").read_text().splitlines()[:2]
    ticket = json.loads(first.split("\t")[2])["ticket"]
    header, payload, signature = ticket.split(".")
    changed = signature[:10] + ("B" if signature[10] != "B" else "C") + signature[11:]
    forged = f"{header}.{payload}.{changed}"
    other = json.loads(second.split("\t")[2])["ticket"]
    # A changed signature; another registration's claims under this one's signature.
    for n, text in enumerate((forged, f"{header}.{other.split('.')[1]}.{signature}", "MT1:X:Y")):
        answer = _post(client, first, f"bad{n}", json.dumps({"ticket": text}))
        assert answer.status_code == 422, (text, answer.get_data(as_text=True))
    assert _post(client, first, "good").status_code == 200
