"""A staff read (a GET) keeps its access record: the request commits it, the rollback of a
read without one changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from backend.extensions import db
from backend.permissions import Role
from backend.privacy.models import AccessRecord


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AccessRecord))


def test_a_staff_read_commits_its_access_record(client, as_role, create_user):
    citizen = create_user(Role.CITIZEN)
    _official, headers = as_role(Role.OFFICIAL)
    response = client.get(f"/api/v1/users/{citizen.id}/rewards", headers=headers)
    assert response.status_code == 200
    # What the request only flushed would go now, as it goes when a server's request ends.
    db.session.rollback()
    assert _count() == 1


def test_a_refused_read_keeps_no_record(client, as_role, create_user, other_municipality):
    stranger = create_user(Role.CITIZEN, municipality=other_municipality)
    _official, headers = as_role(Role.OFFICIAL)
    assert client.get(f"/api/v1/users/{stranger.id}/rewards", headers=headers).status_code == 404
    db.session.rollback()
    assert _count() == 0
