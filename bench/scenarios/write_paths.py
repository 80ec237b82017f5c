"""Write paths against their physical limit: citizen join, meeting registration, door check-in.

Each scenario compares the real app with a minimal raw-SQL WSGI app writing the same rows
(``bench.limit_apps``) in the same run, as ``participation-record-limit`` does for an
official's record:

- ``citizen-join-limit``: a citizen's ``POST /activities/{id}/participations`` (own token);
- ``meeting-register-limit``: a citizen's ``POST /meetings/{id}/registrations``;
- ``door-check-in-limit``: an official's ``POST /meetings/{id}/check-in`` with a ticket never
  scanned before (the full path: the registration is checked in and the attendance becomes a
  confirmed participation of the meeting's project stage).

Every request carries a new ``Idempotency-Key`` and names a new (citizen, activity / meeting)
pair or a new ticket, read by the Lua script from a file of prepared requests (one per line:
path, bearer token, body, tab-separated); a run continues where the last one stopped.

    python -m bench.cpu citizen-join-limit meeting-register-limit door-check-in-limit
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from bench.harness import Scenario, Target, register
from bench.scenarios import participation_record

#: Signing keys at rest are encrypted with a key derived from this (both sides read it).
KEY_SECRET = "bench-certificate-key-secret-not-for-production-0123456789"
#: Prepared requests per side: more than 3 rounds x 4 s of the fastest side can send.
REQUESTS = int(os.environ.get("BENCH_WRITE_REQUESTS", "40000"))
MEETINGS = 40

LUA = r"""
local data_path = os.getenv("BENCH_WRITE_DATA___NAME_____SIDE__")
local counter_path = data_path .. ".counter"
local lines = {}
local counter = 0

function init(args)
  for line in io.lines(data_path) do lines[#lines + 1] = line end
  local f = io.open(counter_path, "r")
  if f then counter = tonumber(f:read("*a")) or 0; f:close() end
end

function request()
  local line = lines[(counter % #lines) + 1]
  counter = counter + 1
  local path, token, body = line:match("([^\t]*)\t([^\t]*)\t(.*)")
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "bench-__NAME__-" .. counter,
  }, body)
end

function done(summary, latency, requests)
  -- The next run starts past every request this one may have sent (16 may be in flight).
  local start = 0
  local f = io.open(counter_path, "r")
  if f then start = tonumber(f:read("*a")) or 0; f:close() end
  f = io.open(counter_path, "w")
  f:write(tostring(start + summary.requests + 64))
  f:close()
end
"""


def _lua(name: str, side: str) -> str:
    return LUA.replace("__NAME__", name.replace("-", "_")).replace("__SIDE__", side)


def prepare(workdir: Path, *, path: str, side: str) -> dict[str, str]:
    """The participation-record data set, plus what ``path`` needs; writes its request file."""
    env = participation_record.prepare_app(workdir, side=side)
    lines = (workdir / f"participation-bench-{side}.txt").read_text().split()
    count = int(lines[1])
    activities, citizens = lines[2 : 2 + count], lines[2 + count :]
    from backend import create_app

    os.environ["CERTIFICATE_KEY_SECRET"] = KEY_SECRET
    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]})
    with app.app_context():
        if path in ("register", "check-in"):
            _signing_key()
        requests = _REQUESTS[path](activities, citizens)
    data = workdir / f"write-{path}-{side}.txt"
    data.write_text("".join("\t".join(r) + "\n" for r in requests))
    key = f"BENCH_WRITE_DATA_{path.replace('-', '_')}_{side}"
    os.environ[key] = str(data)  # wrk runs in this process's environment
    return {**env, key: str(data), "CERTIFICATE_KEY_SECRET": KEY_SECRET}


def _signing_key() -> None:
    """The deployment's first certificate signing key, made before the run: tickets are signed
    with it, and the app's first request would otherwise make it (rows no other request
    writes)."""
    from backend.certification import signing
    from backend.extensions import db

    signing.ensure_published_key()
    db.session.commit()


def _citizen_tokens(citizens: list[str]) -> list[str]:
    import sqlalchemy as sa

    from backend.api.auth import issue_tokens
    from backend.extensions import db
    from backend.identity.models import AuthSession, User

    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(citizens)))}
    sessions = {
        s.user_id: s
        for s in db.session.scalars(sa.select(AuthSession).where(AuthSession.user_id.in_(citizens)))
    }
    return [issue_tokens(users[c], sessions[c])["access_token"] for c in citizens]


def _join_requests(activities: list[str], citizens: list[str]) -> list[tuple[str, str, str]]:
    tokens = _citizen_tokens(citizens)
    return [
        (f"/api/v1/activities/{activities[n // len(citizens)]}/participations",
         tokens[n % len(citizens)], "{}")
        for n in range(min(REQUESTS, len(activities) * len(citizens)))
    ]  # fmt: skip


def _meetings(*, starts_in: timedelta) -> tuple[list[str], str]:
    """MEETINGS meetings of a committee of the bench project (implement stage), open for
    registration, starting ``starts_in`` from now; and the official's id."""
    import sqlalchemy as sa

    from backend.clock import utcnow
    from backend.committees import services as committees
    from backend.extensions import db
    from backend.identity.models import User
    from backend.participation.models import Project, Stage
    from backend.permissions import Role

    official = db.session.scalar(sa.select(User).where(User.role == Role.OFFICIAL))
    project = db.session.scalar(sa.select(Project))
    committee = committees.create_committee(
        actor=official, name="벤치 위원회", seats=10, term_months=12, project_id=project.id
    )
    now = utcnow()
    meetings = [
        committees.create_meeting(
            actor=official,
            committee=committee,
            title=f"벤치 회의 {i}",
            starts_at=now + starts_in,
            ends_at=now + starts_in + timedelta(hours=2),
            capacity=REQUESTS,
            priority_opens_at=now - timedelta(days=2),
            general_opens_at=now - timedelta(days=1),
            place="벤치 회의실",
            stage=Stage.IMPLEMENT,
        ).id
        for i in range(MEETINGS)
    ]
    db.session.commit()
    return meetings, official.id


def _register_requests(_activities: list[str], citizens: list[str]) -> list[tuple[str, str, str]]:
    meetings, _official = _meetings(starts_in=timedelta(days=1))
    tokens = _citizen_tokens(citizens)
    return [
        (f"/api/v1/meetings/{meetings[n // len(citizens)]}/registrations",
         tokens[n % len(citizens)], "{}")
        for n in range(min(REQUESTS, MEETINGS * len(citizens)))
    ]  # fmt: skip


def _check_in_requests(_activities: list[str], citizens: list[str]) -> list[tuple[str, str, str]]:
    """Confirmed registrations (bulk-inserted) for meetings starting in an hour: the door is
    open (two hours before the start)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import joinedload

    from backend.clock import utcnow
    from backend.committees.models import PriorityTier, Registration, RegistrationStatus
    from backend.committees.tickets import make_ticket
    from backend.extensions import db
    from backend.identity.models import AuthSession, User
    from backend.ids import new_id
    from backend.permissions import Role

    meetings, official_id = _meetings(starts_in=timedelta(hours=1))
    municipality_id = db.session.get(User, official_id).municipality_id
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "meeting_id": meetings[n // len(citizens)],
            "municipality_id": municipality_id,
            "user_id": citizens[n % len(citizens)],
            "tier": PriorityTier.GENERAL,
            "priority": PriorityTier.GENERAL.rank,
            "status": RegistrationStatus.CONFIRMED,
            "created_at": now,
            "confirmed_at": now,
        }
        for n in range(min(REQUESTS, MEETINGS * len(citizens)))
    ]
    db.session.execute(sa.insert(Registration), rows)
    db.session.commit()
    # Tickets are signed over the registration and its meeting's times (MT2, ES256).
    registrations = {
        r.id: r
        for r in db.session.scalars(
            sa.select(Registration)
            .where(Registration.meeting_id.in_(meetings))
            .options(joinedload(Registration.meeting))
        )
    }
    official = db.session.scalar(sa.select(User).where(User.role == Role.OFFICIAL))
    session = db.session.scalar(sa.select(AuthSession).where(AuthSession.user_id == official.id))
    from backend.api.auth import issue_tokens

    token = issue_tokens(official, session)["access_token"]
    return [
        (f"/api/v1/meetings/{r['meeting_id']}/check-in", token,
         '{"ticket": "' + make_ticket(registrations[r["id"]]) + '"}')
        for r in rows
    ]  # fmt: skip


def _record_requests(activities: list[str], citizens: list[str]) -> list[tuple[str, str, str]]:
    """An official records citizens (participation-record's pairs, as its own Lua sends)."""
    import sqlalchemy as sa

    from backend.api.auth import issue_tokens
    from backend.extensions import db
    from backend.identity.models import AuthSession, User
    from backend.permissions import Role

    official = db.session.scalar(sa.select(User).where(User.role == Role.OFFICIAL))
    session = db.session.scalar(sa.select(AuthSession).where(AuthSession.user_id == official.id))
    token = issue_tokens(official, session)["access_token"]
    return [
        (f"/api/v1/activities/{activities[n % len(activities)]}/participations", token,
         '{"user_id": "' + citizens[(n // len(activities)) % len(citizens)] + '"}')
        for n in range(min(REQUESTS, len(activities) * len(citizens)))
    ]  # fmt: skip


_REQUESTS = {
    "record": _record_requests,
    "join": _join_requests,
    "register": _register_requests,
    "check-in": _check_in_requests,
}


def _scenario(name: str, path: str, limit_app: str, description: str) -> Scenario:
    def setup_candidate(workdir: Path) -> dict[str, str]:
        return prepare(workdir, path=path, side="candidate")

    def setup_limit(workdir: Path) -> dict[str, str]:
        return prepare(workdir, path=path, side="limit")

    return register(
        Scenario(
            name=name,
            description=description,
            candidate=Target(
                app="backend:create_app()",
                path="/-",
                method="POST",
                lua=_lua(path, "candidate"),
                setup=setup_candidate,
                health_path="/healthz",
                label="real app (Flask view, services, one commit)",
            ),
            baseline=Target(
                app=f"bench.limit_apps:{limit_app}()",
                path="/-",
                method="POST",
                lua=_lua(path, "limit"),
                setup=setup_limit,
                health_path="/healthz",
                label="raw-SQL WSGI app, same reads and rows",
            ),
            target_ratio=0.70,
        )
    )


JOIN = _scenario(
    "citizen-join-limit",
    "join",
    "create_join_app",
    "a citizen joins an activity: real app vs the same rows by a raw-SQL WSGI app",
)
REGISTER = _scenario(
    "meeting-register-limit",
    "register",
    "create_register_app",
    "a citizen registers for a meeting: real app vs the same rows by a raw-SQL WSGI app",
)
CHECK_IN = _scenario(
    "door-check-in-limit",
    "check-in",
    "create_check_in_app",
    "a ticket's first scan at the door: real app vs the same rows by a raw-SQL WSGI app",
)
