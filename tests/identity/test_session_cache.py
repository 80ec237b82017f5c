"""The per-worker session-check cache: used while nothing changed, and a logout, a demotion or a
deactivation made through one app instance takes effect at once on another sharing the
database (each instance stands for a worker: its own cache, its own engine)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa

from backend.permissions import Role

# A second app plays the other worker: its connections must see the test's commits.
pytestmark = pytest.mark.real_commits


@pytest.fixture
def other_worker(app):
    """A second app instance on the same database: another worker's view of the world."""
    from backend import create_app

    return create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}
    )


@pytest.fixture
def statements(app):
    """statements(worker) -> the SQL statements that worker's engine ran, as they come."""
    from backend.extensions import db

    seen: list[str] = []
    listening = []

    def watch(worker) -> list[str]:
        with worker.app_context():
            engine = db.engine

        def record(_conn, _cursor, statement, *_args) -> None:
            seen.append(statement)

        sa.event.listen(engine, "before_cursor_execute", record)
        listening.append((engine, record))
        return seen

    yield watch
    for engine, record in listening:
        sa.event.remove(engine, "before_cursor_execute", record)


def _reads_the_session(statements: list[str]) -> bool:
    return any("FROM users" in s and "auth_sessions" in s for s in statements)


def test_a_repeated_caller_is_checked_by_the_version_alone(
    client, other_worker, as_role, statements
):
    _official, headers = as_role(Role.OFFICIAL)
    other = other_worker.test_client()
    seen = statements(other_worker)
    assert other.get("/api/v1/me", headers=headers).status_code == 200
    assert _reads_the_session(seen)
    seen.clear()
    assert other.get("/api/v1/me", headers=headers).status_code == 200
    assert not _reads_the_session(seen)
    assert any("auth_state" in s for s in seen)


def test_demotion_on_one_worker_takes_effect_on_the_other_at_once(client, other_worker, as_role):
    official, official_headers = as_role(Role.OFFICIAL)
    _admin, admin_headers = as_role(Role.ADMIN)
    other = other_worker.test_client()
    for _ in range(2):  # the second answer comes from the other worker's copy
        assert other.get("/api/v1/users", headers=official_headers).status_code == 200
    demoted = client.patch(
        f"/api/v1/users/{official.id}", headers=admin_headers, json={"role": "citizen"}
    )
    assert demoted.status_code == 200
    assert other.get("/api/v1/users", headers=official_headers).status_code == 403
    assert other.get("/api/v1/me", headers=official_headers).json["role"] == "citizen"


def test_logout_on_one_worker_takes_effect_on_the_other_at_once(client, other_worker, as_role):
    _citizen, headers = as_role(Role.CITIZEN)
    other = other_worker.test_client()
    for _ in range(2):
        assert other.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    refused = other.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "token_revoked"


def test_deleting_an_account_on_one_worker_refuses_it_on_the_other(client, other_worker, as_role):
    citizen, headers = as_role(Role.CITIZEN)
    _admin, admin_headers = as_role(Role.ADMIN)
    other = other_worker.test_client()
    for _ in range(2):
        assert other.get("/api/v1/me", headers=headers).status_code == 200
    assert client.delete(f"/api/v1/users/{citizen.id}", headers=admin_headers).status_code == 204
    assert other.get("/api/v1/me", headers=headers).status_code == 401


def test_a_change_from_another_process_empties_the_copy(app, other_worker, as_role):
    """A separate OS process (another gunicorn worker, or a CLI command) demotes an official
    with a bulk UPDATE; this process's cached check sees it on the next request."""
    official, headers = as_role(Role.OFFICIAL)
    client = other_worker.test_client()
    for _ in range(2):
        assert client.get("/api/v1/users", headers=headers).status_code == 200
    script = textwrap.dedent(
        f"""
        import sqlalchemy as sa
        from backend import create_app
        from backend.extensions import db
        from backend.identity.models import User
        app = create_app({{"SQLALCHEMY_DATABASE_URI": {app.config["SQLALCHEMY_DATABASE_URI"]!r}}})
        with app.app_context():
            db.session.execute(
                sa.update(User).where(User.id == {official.id!r}).values(role="citizen")
            )
            db.session.commit()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert client.get("/api/v1/users", headers=headers).status_code == 403
