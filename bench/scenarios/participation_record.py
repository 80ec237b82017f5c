"""``participation-record``: an official records a participation over HTTP, against a bare Flask
endpoint inserting one row into the same kind of database, in the same run.

The candidate is the real app's ``POST /api/v1/activities/{id}/participations`` with
``{"user_id": ...}``: token check (session row), Idempotency-Key lookup and store, body
validation, activity and citizen lookups, the atomic seat counter, the participation row, its
audit entry, the citizen's notification and its outbox row (one push to their phone), one
commit, all in the Flask view.
Every request names another (activity, citizen) pair and another Idempotency-Key, so each one
creates a row; a lost or duplicated request would show as a non-2xx answer or a missing row.

    python -m bench.run participation-record              # SQLite (fresh files per side)
    python -m bench.scenarios.participation_record        # same, then checks rows vs answers
    BENCH_APP_DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1/bench_p \\
        python -m bench.scenarios.participation_record    # PostgreSQL (that database is emptied)

Both sides run the same Lua (same bodies and headers, built per request); only the path differs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from bench.harness import Scenario, Target, bare_insert_target, compare, register

ACTIVITIES = 400
CITIZENS = 1_000
SECRET = "bench-secret-key-not-for-production-0123456789abcdef"
#: Where the candidate's database lives when a verifying run keeps it (see main()).
KEEP: dict[str, str] = {}

LUA = r"""
local data_path = os.getenv("BENCH_PARTICIPATION_DATA___SIDE__")
  or os.getenv("BENCH_PARTICIPATION_DATA")
local counter_path = data_path .. ".counter.__SIDE__"
local token, activities, users = nil, {}, {}
local counter = 0

function init(args)
  local lines = {}
  for line in io.lines(data_path) do lines[#lines + 1] = line end
  token = lines[1]
  local count = tonumber(lines[2])
  for i = 1, count do activities[i] = lines[2 + i] end
  for i = 3 + count, #lines do users[#users + 1] = lines[i] end
  local f = io.open(counter_path, "r")
  if f then counter = tonumber(f:read("*a")) or 0; f:close() end
end

function request()
  local activity = activities[(counter % #activities) + 1]
  local user = users[(math.floor(counter / #activities) % #users) + 1]
  counter = counter + 1
  local path = "__PATH__"
  if path == "" then path = "/api/v1/activities/" .. activity .. "/participations" end
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "bench-" .. counter,
  }, '{"user_id": "' .. user .. '"}')
end

function done(summary, latency, requests)
  -- The next run starts past every pair this one may have sent (16 may still be in flight).
  local start = 0
  local f = io.open(counter_path, "r")
  if f then start = tonumber(f:read("*a")) or 0; f:close() end
  f = io.open(counter_path, "w")
  f:write(tostring(start + summary.requests + 64))
  f:close()
end
"""


def _lua(side: str, path: str) -> str:
    return LUA.replace("__SIDE__", side).replace("__PATH__", path)


def _database_url(workdir: Path, side: str = "candidate") -> str:
    if side == "limit":
        url = os.environ.get("BENCH_LIMIT_DATABASE_URL")
        return url or f"sqlite:///{workdir / 'limit.db'}"
    url = os.environ.get("BENCH_APP_DATABASE_URL")
    if url:
        return url
    folder = Path(KEEP.get("dir") or workdir)
    return f"sqlite:///{folder / 'app.db'}"


def prepare_app(workdir: Path, side: str = "candidate") -> dict[str, str]:
    """Fresh schema, one official, citizens and activities; writes the Lua's data file."""
    os.environ["SECRET_KEY"] = SECRET  # the tokens made here are checked with it
    os.environ.setdefault("ACCESS_TOKEN_MINUTES", "240")
    instance = workdir / "instance"
    instance.mkdir(exist_ok=True)
    os.environ["INSTANCE_DIR"] = str(instance)
    url = _database_url(workdir, side)
    KEEP["limit_url" if side == "limit" else "url"] = url
    import sqlalchemy as sa

    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        # The baseline's table lives in the same database (its setup ran first): put it back.
        from bench.bare_app import ensure_table

        ensure_table(url.replace("postgresql+psycopg2://", "postgresql://"), empty=True)
    from flask_migrate import upgrade

    from backend import create_app
    from backend.api.auth import issue_tokens
    from backend.clock import seoul_today, utcnow
    from backend.extensions import db
    from backend.identity.models import AuthSession, Municipality, User
    from backend.notifications.models import Device, Platform
    from backend.participation import services
    from backend.participation.models import ActivityKind, ProjectField, ProjectStatus, Stage
    from backend.permissions import Role

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        place = Municipality(code="99999", name="벤치구", region="벤치시")
        db.session.add(place)
        db.session.flush()
        official = User(
            role=Role.OFFICIAL,
            municipality_id=place.id,
            email="o@bench.example",
            password_hash="x",
            display_name="벤치 공무원",
        )
        citizens = [
            User(
                role=Role.CITIZEN,
                municipality_id=place.id,
                email=f"c{i}@bench.example",
                password_hash="x",
                display_name=f"시민{i}",
            )
            for i in range(CITIZENS)
        ]
        db.session.add_all([official, *citizens])
        db.session.flush()
        today = seoul_today()
        project = services.create_project(
            actor=official,
            title="벤치 사업",
            field=ProjectField.SAFETY,
            starts_on=today - timedelta(days=30),
            ends_on=today + timedelta(days=30),
            status=ProjectStatus.ACTIVE,
        )
        start = utcnow() + timedelta(days=1)
        activities = [
            services.create_activity(
                actor=official,
                project=project,
                stage=Stage.IMPLEMENT,
                kind=ActivityKind.FIELD_WORK,
                title=f"활동 {i}",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
            )
            for i in range(ACTIVITIES)
        ]
        session = AuthSession(user_id=official.id, expires_at=utcnow() + timedelta(days=1))
        db.session.add(session)
        # Every citizen has the app on a phone: each record queues one push (an outbox row).
        logins = [
            AuthSession(user_id=citizen.id, expires_at=utcnow() + timedelta(days=1))
            for citizen in citizens
        ]
        db.session.add_all(logins)
        db.session.flush()
        db.session.add_all(
            Device(
                user_id=login.user_id,
                session_id=login.id,
                token=f"bench-device-{index}",
                platform=Platform.ANDROID,
                app_version="1.0.0",
                locale="ko-KR",
            )
            for index, login in enumerate(logins)
        )
        db.session.commit()
        token = issue_tokens(official, session)["access_token"]
        lines = [
            token,
            str(len(activities)),
            *(a.id for a in activities),
            *(c.id for c in citizens),
        ]
        db.session.remove()
        if os.environ.get("BENCH_RECORD_WITHOUT_INDEXES") == "1":
            _drop_secondary_indexes_and_foreign_keys(db.engine)
        db.engine.dispose()
    data = workdir / f"participation-bench-{side}.txt"
    data.write_text("\n".join(lines) + "\n")
    for stale in workdir.glob(f"participation-bench-{side}.txt.counter.*"):
        stale.unlink()
    # wrk runs in this process's environment: its Lua finds the ids and the token here.
    os.environ["BENCH_PARTICIPATION_DATA"] = str(data)
    os.environ[f"BENCH_PARTICIPATION_DATA_{side}"] = str(data)
    return {
        "BENCH_LIMIT_DATABASE_URL": url,
        "DATABASE_URL": url,
        "INSTANCE_DIR": str(instance),
        "SECRET_KEY": SECRET,
        "JWT_SECRET_KEY": SECRET,
        "ACCESS_TOKEN_MINUTES": "240",
    }


#: The tables a record writes rows into (the activity's counter is an UPDATE in place).
WRITTEN_TABLES = (
    "participations",
    "audit_log",
    "notification_events",
    "idempotency_records",
)


def _drop_secondary_indexes_and_foreign_keys(engine) -> None:
    """An experiment, never a deployment: what the record would cost if the tables it writes
    had only their primary and unique keys (the reads need those) and no foreign keys (on
    PostgreSQL; SQLite cannot drop them)."""
    import sqlalchemy as sa

    with engine.begin() as connection:
        inspector = sa.inspect(connection)
        for table in WRITTEN_TABLES:
            if connection.dialect.name == "postgresql":
                for key in inspector.get_foreign_keys(table):
                    connection.execute(
                        sa.text(f'ALTER TABLE {table} DROP CONSTRAINT "{key["name"]}"')
                    )
            for index in inspector.get_indexes(table):
                if not index["unique"] and not index["name"].startswith("uq_"):
                    connection.execute(sa.text(f'DROP INDEX "{index["name"]}"'))


def _baseline() -> Target:
    url = os.environ.get("BENCH_APP_DATABASE_URL")
    base_url = url.replace("postgresql+psycopg2://", "postgresql://") if url else None
    return bare_insert_target(base_url, lua=_lua("baseline", "/insert"))


SCENARIO = register(
    Scenario(
        name="participation-record",
        description="official records a participation over HTTP vs bare Flask + one INSERT",
        candidate=Target(
            app="backend:create_app()",
            path="/api/v1/activities/-/participations",
            method="POST",
            lua=_lua("candidate", ""),
            setup=prepare_app,
            health_path="/healthz",
            label="real app (validation, idempotency, audit, outbox, one commit)",
        ),
        baseline=_baseline(),
        target_ratio=0.60,
    )
)


def _prepare_limit(workdir: Path) -> dict[str, str]:
    return prepare_app(workdir, side="limit")


LIMIT_SCENARIO = register(
    Scenario(
        name="participation-record-limit",
        description="official records a participation: real app vs the same rows written by a "
        "minimal raw-SQL WSGI app (bench.limit_apps)",
        candidate=Target(
            app="backend:create_app()",
            path="/api/v1/activities/-/participations",
            method="POST",
            lua=_lua("candidate", ""),
            setup=prepare_app,
            health_path="/healthz",
            label="real app (Flask view, services, one commit)",
        ),
        baseline=Target(
            app="bench.limit_apps:create_record_app()",
            path="/api/v1/activities/-/participations",
            method="POST",
            lua=_lua("limit", ""),
            setup=_prepare_limit,
            health_path="/healthz",
            label="raw-SQL WSGI app, same reads and rows",
        ),
        target_ratio=0.70,
    )
)


FLOOR_SCENARIO = register(
    Scenario(
        name="record-flask-core-floor",
        description="the framework's floor: bare Flask + SQLAlchemy Core running the raw app's "
        "statements for an official's record, vs the raw-SQL WSGI app (bench.limit_apps)",
        candidate=Target(
            app="bench.limit_apps:create_flask_core_record_app()",
            path="/api/v1/activities/-/participations",
            method="POST",
            lua=_lua("candidate", ""),
            setup=prepare_app,
            health_path="/healthz",
            label="bare Flask + SQLAlchemy Core, the raw app's statements",
        ),
        baseline=LIMIT_SCENARIO.baseline,
        target_ratio=0.70,
    )
)


def verify(url: str) -> dict[str, int]:
    """Rows written by the candidate: participations, their audit entries, idempotency keys."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        counts = {
            "participations": connection.scalar(sa.text("SELECT COUNT(*) FROM participations")),
            "distinct_pairs": connection.scalar(
                sa.text(
                    "SELECT COUNT(*) FROM (SELECT DISTINCT activity_id, user_id "
                    "FROM participations) AS pairs"
                )
            ),
            "audit_entries": connection.scalar(
                sa.text("SELECT COUNT(*) FROM audit_log WHERE action = 'participation.record'")
            ),
            "idempotency_keys": connection.scalar(
                sa.text("SELECT COUNT(*) FROM idempotency_records")
            ),
            "notification_events": connection.scalar(
                sa.text(
                    "SELECT COUNT(*) FROM notification_events WHERE kind = 'participation.recorded'"
                )
            ),
            "seats_counted": connection.scalar(
                sa.text("SELECT COALESCE(SUM(registered_count), 0) FROM activities")
            ),
        }
    engine.dispose()
    return counts


def main(argv: list[str] | None = None) -> int:
    """Run the comparison without warm-up, then check every answered request left one row."""
    parser = argparse.ArgumentParser(prog="python -m bench.scenarios.participation_record")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--wait-quiet", type=int, default=0)
    parser.add_argument("--retry-busy", type=int, default=0)
    args = parser.parse_args(argv)
    KEEP["dir"] = tempfile.mkdtemp(prefix="bench-participation-record-")
    comparison = compare(
        SCENARIO,
        rounds=args.rounds,
        duration=args.duration,
        warmup=0,
        wait_quiet=args.wait_quiet,
        retry_busy=args.retry_busy,
    )
    # Discarded (busy) rounds wrote rows too: count every candidate run.
    candidate_runs = [
        r for r in (*comparison.runs, *comparison.discarded_runs) if r.side == "candidate"
    ]
    answered = sum(r.result.requests - r.result.non_2xx for r in candidate_runs)
    runs = len(candidate_runs)
    counts = verify(KEEP["url"])
    print(f"candidate answered 2xx: {answered}; rows: {counts}")
    rows = counts["participations"]
    same = len(set(counts.values())) == 1
    in_flight = rows - answered
    ok = same and 0 <= in_flight <= 16 * runs and comparison.verdict != "INVALID"
    print(
        "no request lost or duplicated: every 2xx has its row, audit entry and key; "
        f"{in_flight} more rows than counted answers (requests in flight when wrk stopped)"
        if ok
        else "MISMATCH: rows and answers disagree"
    )
    return 0 if ok and comparison.verdict in ("PASS", "NOISE") else 1


if __name__ == "__main__":
    sys.exit(main())
