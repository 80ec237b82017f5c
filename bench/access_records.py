"""Does writing access records slow the staff lists down? In-process A/B, interleaved rounds.

    python -m bench.access_records                 # fresh SQLite file
    python -m bench.access_records --database-url postgresql+psycopg2://postgres@127.0.0.1/db

An official reads an activity's participant list (a page of 50 citizens) through the Flask
test client: side A writes the access record (one row plus 50 subject rows, two Core
statements), side B has the helper replaced by a no-op. Rounds alternate A and B (and which
goes first) so that a busy neighbour hurts both; the medians of per-request time and their
ratio are printed (B/A near 1.0 means "not measurably slower"; these machines move 5-15 %
between rounds). Nothing here is a test: bench/README.md records the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import timedelta


def main() -> None:
    """Run the comparison and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--participants", type=int, default=50)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-access-")
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-0123456789-0123456789")
    os.environ.setdefault("CERTIFICATE_KEY_SECRET", "bench-certificate-secret-0123456789")
    os.environ["INSTANCE_DIR"] = tmp

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from backend import create_app
    from backend.api import access_log
    from backend.clock import utcnow
    from backend.extensions import db
    from backend.identity.models import AuthSession, Municipality, User
    from backend.participation import services
    from backend.participation.models import ActivityKind, ProjectField, ProjectStatus, Stage
    from backend.permissions import Role

    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RECORD_FAST_PATH": False})
    with app.app_context():
        from backend.models import MIGRATIONS_DIR

        upgrade(directory=str(MIGRATIONS_DIR))
        town = Municipality(code="99999", name="벤치구", region="서울특별시")
        db.session.add(town)
        db.session.flush()

        def person(role: Role, number: int) -> User:
            user = User(
                role=role,
                municipality_id=town.id,
                email=f"{role.value}{number}@bench.example",
                password_hash="x",
                display_name=f"시민{number}",
            )
            db.session.add(user)
            return user

        official = person(Role.OFFICIAL, 0)
        citizens = [person(Role.CITIZEN, n) for n in range(1, args.participants + 1)]
        db.session.flush()
        now = utcnow()
        project = services.create_project(
            actor=official,
            title="벤치 사업",
            field=ProjectField.OTHER,
            starts_on=now.date() - timedelta(days=10),
            ends_on=now.date() + timedelta(days=10),
            status=ProjectStatus.ACTIVE,
        )
        activity = services.create_activity(
            actor=official,
            project=project,
            stage=Stage.PLAN,
            kind=ActivityKind.WORKSHOP,
            title="벤치 활동",
            starts_at=now + timedelta(days=1),
            ends_at=now + timedelta(days=1, hours=2),
        )
        for citizen in citizens:
            services.join_activity(actor=citizen, activity=activity)
        session = AuthSession(user_id=official.id, expires_at=now + timedelta(days=1))
        db.session.add(session)
        db.session.commit()
        from backend.api.auth import issue_tokens

        headers = {"Authorization": "Bearer " + issue_tokens(official, session)["access_token"]}
        path = f"/api/v1/activities/{activity.id}/participations?limit={args.participants}"

    client = app.test_client()
    real = access_log.record_access

    def run(side: str) -> tuple[float, float]:
        access_log.record_access = real if side == "A" else (lambda **_kw: None)
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.requests):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, response.json
        wall = (time.perf_counter() - start) / args.requests * 1000
        return wall, (time.process_time() - cpu) / args.requests * 1000

    run("A"), run("B")  # warm-up
    # Wall time includes waiting for the CPU (other processes) and for the database's flush;
    # this process's CPU time does not, so it stays readable on a busy machine (it leaves out
    # the PostgreSQL server's own work, which only the wall time shows).
    times: dict[str, list[tuple[float, float]]] = {"A": [], "B": []}
    for number in range(args.rounds):
        # Alternate which side goes first: a load that grows during a round hurts both alike.
        for side in ("A", "B") if number % 2 == 0 else ("B", "A"):
            times[side].append(run(side))
    access_log.record_access = real
    print(f"database: {url.split(':')[0]}; {args.participants} participants a page")
    for index, clock in enumerate(("wall", "CPU")):
        a = statistics.median(t[index] for t in times["A"])
        b = statistics.median(t[index] for t in times["B"])
        print(
            f"{clock:>4}: A with access records {a:.2f} ms/request, "
            f"B without {b:.2f}; B/A {b / a:.3f}"
        )
    print("(1.00: no cost; > 0.90 is within these machines' noise)")


if __name__ == "__main__":
    main()
