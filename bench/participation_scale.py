"""Scale benchmark of participation reads: generate a municipality-sized history, then time
the stage-mode report and one citizen's history (service call and HTTP, medians of many runs).

    python -m bench.participation_scale                       # full size on a fresh SQLite file
    python -m bench.participation_scale --scale 0.1           # a tenth (a quick check)
    python -m bench.participation_scale --database-url postgresql+psycopg2://postgres@127.0.0.1/db

Full size is 100,000 citizens, 5,000 projects (20,000 stages), 50,000 activities and
1,000,000 participations. Rows are bulk-inserted (executemany on SQLite, COPY on PostgreSQL)
with the maintained counters (stage modes, confirmed counts and hours, seats taken) computed
while generating, exactly as the services would have left them. A PostgreSQL database named in
--database-url is emptied first (its public schema is dropped). Nothing here is a test: the
goals (<= 20 ms each) are printed beside the figures, and bench/README.md records them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.harness import RESULTS_DIR

GOAL_MS = 20.0
STAGES = ("plan", "decide", "implement", "evaluate")
FIELDS = (
    "safety",
    "youth",
    "welfare",
    "environment",
    "local_economy",
    "culture",
    "health",
    "education",
    "transport",
    "other",
)
KINDS = ("workshop", "deliberation", "survey", "field_work", "meeting", "monitoring", "training")
#: (status, share) of generated participations.
STATUSES = (
    ("confirmed", 0.70),
    ("attended", 0.08),
    ("registered", 0.12),
    ("cancelled", 0.05),
    ("no_show", 0.05),
)
PASSWORD_HASH = "$argon2id$v=19$m=8,t=1,p=1$YmVuY2hzYWx0$bm90LWEtcmVhbC1oYXNoLWZvci1iZW5jaA"


def _ids(count: int) -> list[str]:
    from backend.ids import new_id

    return [new_id() for _ in range(count)]


def _mode(government: int, confirmed: int) -> str:
    if government and confirmed:
        return "joint"
    if government:
        return "government"
    return "citizen" if confirmed else "unclear"


class Generator:
    """Builds every table's rows in memory (tuples in column order), counters included."""

    def __init__(self, *, scale: float, seed: int = 2024) -> None:
        self.rng = random.Random(seed)
        self.n_municipalities = max(2, round(20 * min(scale, 1.0)))
        self.n_citizens = max(100, round(100_000 * scale))
        self.n_projects = max(20, round(5_000 * scale))
        self.activities_per_project = 10
        self.n_participations = max(1_000, round(1_000_000 * scale))
        self.created = datetime(2026, 1, 1, tzinfo=UTC)
        self.tables: dict[str, tuple[list[str], list[tuple]]] = {}

    def build(self) -> None:
        rng = self.rng
        municipality_ids = _ids(self.n_municipalities)
        self.tables["municipalities"] = (
            ["id", "code", "name", "name_en", "region", "created_at"],
            [
                (m, f"{90000 + i}", f"벤치시{i}", None, "벤치도", self.created)
                for i, m in enumerate(municipality_ids)
            ],
        )
        citizen_ids = _ids(self.n_citizens)
        citizens_of: dict[str, list[str]] = defaultdict(list)
        users = []
        for i, user_id in enumerate(citizen_ids):
            place = municipality_ids[i % self.n_municipalities]
            citizens_of[place].append(user_id)
            users.append(
                (
                    user_id,
                    place,
                    "citizen",
                    f"c{i}@bench.example",
                    None,
                    PASSWORD_HASH,
                    f"시민{i}",
                    "ko",
                    True,
                    0,
                    None,
                    self.created,
                    None,
                )
            )
        self.analyst_id = _ids(1)[0]
        users.append(
            (
                self.analyst_id,
                None,
                "analyst",
                "analyst@bench.example",
                None,
                PASSWORD_HASH,
                "분석관",
                "ko",
                True,
                0,
                None,
                self.created,
                None,
            )
        )
        self.official_ids = {}
        for place in municipality_ids:
            official = _ids(1)[0]
            self.official_ids[place] = official
            users.append(
                (
                    official,
                    place,
                    "official",
                    f"o-{place}@bench.example",
                    None,
                    PASSWORD_HASH,
                    "공무원",
                    "ko",
                    True,
                    0,
                    None,
                    self.created,
                    None,
                )
            )
        self.tables["users"] = (
            [
                "id",
                "municipality_id",
                "role",
                "email",
                "phone",
                "password_hash",
                "display_name",
                "locale",
                "is_active",
                "failed_logins",
                "locked_until",
                "created_at",
                "deleted_at",
            ],
            users,
        )
        self.citizens_of = citizens_of

        projects, stages, activities, works = [], [], [], []
        stage_of: dict[tuple[str, str], str] = {}
        stage_meta: dict[str, dict[str, Any]] = {}
        activities_of: dict[str, list[tuple]] = defaultdict(list)
        project_ids = _ids(self.n_projects)
        for i, project_id in enumerate(project_ids):
            place = municipality_ids[i % self.n_municipalities]
            year = 2017 + i % 10
            field = FIELDS[i % len(FIELDS)]
            status = "draft" if i % 50 == 0 else ("completed" if year < 2026 else "active")
            starts_on, ends_on = date(year, 1, 1), date(year, 12, 31)
            projects.append(
                (
                    project_id,
                    place,
                    f"사업 {i}",
                    "",
                    field,
                    starts_on,
                    ends_on,
                    status,
                    "public",
                    self.official_ids[place],
                    self.created,
                )
            )
            for position, stage in enumerate(STAGES, start=1):
                stage_id = _ids(1)[0]
                stage_of[(project_id, stage)] = stage_id
                government = rng.choice((0, 0, 1, 1, 2))
                stage_meta[stage_id] = {
                    "project": project_id,
                    "place": place,
                    "year": year,
                    "field": field,
                    "status": status,
                    "position": position,
                    "stage": stage,
                    "government": government,
                    "confirmed": 0,
                    "hours": 0.0,
                }
                for _ in range(government):
                    works.append(
                        (
                            _ids(1)[0],
                            place,
                            project_id,
                            stage_id,
                            stage,
                            "행정 업무",
                            "",
                            starts_on,
                            self.official_ids[place],
                            self.created,
                        )
                    )
            for a in range(self.activities_per_project):
                stage = STAGES[a % 4]
                day = starts_on + timedelta(days=rng.randrange(0, 360))
                start = datetime(day.year, day.month, day.day, 5, 0, tzinfo=UTC)
                kind = KINDS[rng.randrange(len(KINDS))]
                level = "basic" if kind == "training" else None
                row = [
                    _ids(1)[0],
                    place,
                    project_id,
                    stage_of[(project_id, stage)],
                    stage,
                    kind,
                    level,
                    f"활동 {i}-{a}",
                    "",
                    "주민센터",
                    None,
                    start,
                    start + timedelta(hours=2),
                    None,
                    0,
                    None,
                    self.official_ids[place],
                    self.created,
                ]
                activities.append(row)
                activities_of[place].append(row)

        statuses = [s for s, _ in STATUSES]
        weights = [w for _, w in STATUSES]
        participations = []
        seen: set[tuple[str, str]] = set()
        per_place = self.n_participations // self.n_municipalities
        for place in municipality_ids:
            pool, people = activities_of[place], citizens_of[place]
            made = 0
            while made < per_place:
                activity = pool[rng.randrange(len(pool))]
                user_id = people[rng.randrange(len(people))]
                if (activity[0], user_id) in seen:
                    continue
                seen.add((activity[0], user_id))
                status = rng.choices(statuses, weights)[0]
                hours = float(rng.choice((1, 1.5, 2, 2.5, 3))) if status == "confirmed" else None
                start = activity[11]
                decided = start + timedelta(hours=3) if status in ("confirmed", "no_show") else None
                participations.append(
                    (
                        None,
                        place,
                        user_id,
                        activity[0],
                        activity[2],
                        activity[3],
                        activity[4],
                        start,
                        status,
                        hours,
                        start - timedelta(days=3),
                        start if status in ("attended", "confirmed") else None,
                        decided,
                        self.official_ids[place] if decided else None,
                        None,
                        None,
                    )
                )
                if status in ("registered", "attended", "confirmed"):
                    activity[14] += 1
                if status == "confirmed":
                    meta = stage_meta[activity[3]]
                    meta["confirmed"] += 1
                    meta["hours"] += hours
                made += 1
        # Ids in registration order, so "newest first" pages are meaningful.
        participations.sort(key=lambda row: row[10])
        for row_id, index in zip(
            _ids(len(participations)), range(len(participations)), strict=True
        ):
            participations[index] = (row_id, *participations[index][1:])

        for stage_id, meta in stage_meta.items():
            mode = _mode(meta["government"], meta["confirmed"])
            stages.append(
                (
                    stage_id,
                    meta["project"],
                    meta["stage"],
                    meta["position"],
                    None,
                    None,
                    "planned",
                    mode,
                    None,
                    None,
                    mode,
                    meta["government"],
                    meta["confirmed"],
                    round(meta["hours"], 2),
                    meta["place"],
                    meta["year"],
                    meta["field"],
                    meta["status"],
                )
            )
        self.tables["projects"] = (
            [
                "id",
                "municipality_id",
                "title",
                "summary",
                "field",
                "starts_on",
                "ends_on",
                "status",
                "visibility",
                "created_by",
                "created_at",
            ],
            projects,
        )
        self.tables["project_stages"] = (
            [
                "id",
                "project_id",
                "stage",
                "position",
                "starts_on",
                "ends_on",
                "status",
                "derived_mode",
                "override_mode",
                "override_reason",
                "mode",
                "government_work_count",
                "confirmed_count",
                "confirmed_hours",
                "municipality_id",
                "year",
                "field",
                "project_status",
            ],
            stages,
        )
        self.tables["government_work"] = (
            [
                "id",
                "municipality_id",
                "project_id",
                "stage_id",
                "stage",
                "title",
                "description",
                "performed_on",
                "created_by",
                "created_at",
            ],
            works,
        )
        self.tables["activities"] = (
            [
                "id",
                "municipality_id",
                "project_id",
                "stage_id",
                "stage",
                "kind",
                "training_level",
                "title",
                "description",
                "place",
                "online_url",
                "starts_at",
                "ends_at",
                "capacity",
                "registered_count",
                "source_key",
                "created_by",
                "created_at",
            ],
            [tuple(a) for a in activities],
        )
        self.tables["participations"] = (
            [
                "id",
                "municipality_id",
                "user_id",
                "activity_id",
                "project_id",
                "stage_id",
                "stage",
                "activity_starts_at",
                "status",
                "hours",
                "registered_at",
                "attended_at",
                "decided_at",
                "decided_by",
                "rejection_reason",
                "recorded_by",
            ],
            participations,
        )
        # A citizen with a long history, for the history timing.
        counts: dict[str, int] = defaultdict(int)
        for row in participations:
            counts[row[2]] += 1
        self.busy_citizens = sorted(counts, key=counts.get, reverse=True)[:50]
        self.typical_citizens = rng.sample(list(counts), 200)


# ---- loading --------------------------------------------------------------------------------


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def load(url: str, generator: Generator) -> dict[str, float]:
    """Insert every generated table; returns seconds per table."""
    order = [
        "municipalities",
        "users",
        "projects",
        "project_stages",
        "government_work",
        "activities",
        "participations",
    ]
    timings = {}
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        connection.execute("PRAGMA synchronous=OFF")
        for table in order:
            columns, rows = generator.tables[table]
            started = time.perf_counter()
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            for chunk in range(0, len(rows), 50_000):
                connection.executemany(
                    sql, ([_sqlite_value(v) for v in row] for row in rows[chunk : chunk + 50_000])
                )
            connection.commit()
            timings[table] = time.perf_counter() - started
        connection.execute("ANALYZE")
        connection.close()
        return timings
    import psycopg2

    connection = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    with connection, connection.cursor() as cursor:
        for table in order:
            columns, rows = generator.tables[table]
            started = time.perf_counter()
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(_copy_value(v) for v in row))
                buffer.write("\n")
            buffer.seek(0)
            cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
            timings[table] = time.perf_counter() - started
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    return timings


# ---- measuring ------------------------------------------------------------------------------


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
        "runs": len(ordered),
    }


def _time(fn, runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return _stats(samples)


def measure(app: Any, generator: Generator, *, runs: int) -> dict[str, Any]:
    """Time the reads that must stay under GOAL_MS, as services and over HTTP."""
    from backend.extensions import db
    from backend.identity.models import User
    from backend.participation import reports, services
    from tests.fixtures.identity import auth_headers_for

    results: dict[str, Any] = {}
    rng = random.Random(7)
    with app.app_context():
        analyst = db.session.get(User, generator.analyst_id)
        place = generator.tables["municipalities"][1][0][0]
        official = db.session.get(User, generator.official_ids[place])
        results["stage_modes_service_all"] = _time(
            lambda: reports.stage_mode_report(viewer=analyst), runs
        )
        results["stage_modes_service_year"] = _time(
            lambda: reports.stage_mode_report(viewer=analyst, year=2020), runs
        )
        results["stage_modes_service_official"] = _time(
            lambda: reports.stage_mode_report(viewer=official), runs
        )

        def history(pool):
            user = db.session.get(User, rng.choice(pool))
            page = services.list_my_participations(user=user, limit=20, cursor=None)
            assert page.items[0].activity.title  # the activity came with the page
            db.session.expunge_all()

        results["history_service_typical"] = _time(
            lambda: history(generator.typical_citizens), runs
        )
        results["history_service_busiest"] = _time(lambda: history(generator.busy_citizens), runs)

        analyst_headers = auth_headers_for(analyst)
        citizen_headers = [
            auth_headers_for(db.session.get(User, user_id))
            for user_id in generator.typical_citizens[:20]
        ]
        db.session.remove()

    client = app.test_client()

    def get(path, headers):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]

    results["stage_modes_http_all"] = _time(
        lambda: get("/api/v1/reports/stage-modes", analyst_headers), runs
    )
    results["stage_modes_http_csv"] = _time(
        lambda: get("/api/v1/reports/stage-modes?format=csv", analyst_headers), runs
    )
    results["history_http_typical"] = _time(
        lambda: get("/api/v1/me/participations", rng.choice(citizen_headers)), runs
    )
    results["summary_http_typical"] = _time(
        lambda: get("/api/v1/me/participations/summary", rng.choice(citizen_headers)), runs
    )

    # What the maintained counters save: the same table straight from the participations.
    with app.app_context():
        raw = sa.text(
            "SELECT ps.stage, COUNT(DISTINCT ps.id) FROM project_stages ps "
            "JOIN participations p ON p.stage_id = ps.id WHERE p.status = 'confirmed' "
            "GROUP BY ps.stage"
        )
        results["raw_group_by_over_participations"] = _time(
            lambda: db.session.execute(raw).all(), 3
        )
    return results


def main(argv: list[str] | None = None) -> int:
    """Generate, load, measure, print and write bench/results/participation_scale.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.participation_scale")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="1.0 = 100k citizens, 5k projects, 1M participations",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL (emptied first); default: a fresh SQLite file",
    )
    parser.add_argument("--runs", type=int, default=200, help="timed runs per figure")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1.0:
        parser.error("--scale must be in (0, 1]")

    workdir = Path(tempfile.mkdtemp(prefix="bench-participation-"))
    url = args.database_url or f"sqlite:///{workdir / 'scale.db'}"
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-000000000000")
    os.environ["INSTANCE_DIR"] = str(workdir / "instance")
    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()

    from flask_migrate import upgrade

    from backend import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()

    started = time.perf_counter()
    generator = Generator(scale=args.scale)
    generator.build()
    generated = time.perf_counter() - started
    sizes = {table: len(rows) for table, (_, rows) in generator.tables.items()}
    print(f"generated in {generated:.1f} s: {sizes}", flush=True)
    load_times = load(url, generator)
    print(
        f"loaded in {sum(load_times.values()):.1f} s: "
        + ", ".join(f"{t} {s:.1f}s" for t, s in load_times.items()),
        flush=True,
    )

    results = measure(app, generator, runs=args.runs)
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"\n{kind}, scale {args.scale:g} ({sizes['participations']:,} participations)")
    for name, figures in results.items():
        goal = ""
        if name.startswith(("stage_modes", "history", "summary")):
            goal = "ok" if figures["median_ms"] <= GOAL_MS else f"OVER {GOAL_MS:g} ms"
        print(
            f"  {name:<36} median {figures['median_ms']:>9.3f} ms   "
            f"p95 {figures['p95_ms']:>9.3f} ms   {goal}"
        )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"participation_scale_{kind}.json"
    out.write_text(
        json.dumps(
            {
                "database": kind,
                "scale": args.scale,
                "sizes": sizes,
                "generate_s": round(generated, 1),
                "load_s": {k: round(v, 1) for k, v in load_times.items()},
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"results: {out}")
    if kind == "sqlite":
        for leftover in workdir.glob("scale.db*"):
            leftover.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
