"""Two confirmations of one citizen at once issue one certificate and both succeed (PostgreSQL)."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from backend.certification import services
from backend.certification.models import Certificate
from backend.extensions import db
from backend.identity.models import User
from backend.permissions import Role
from tests.rewards.test_concurrency import run_in_threads

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.real_commits,  # threads: each has its own connection
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="needs PostgreSQL (TEST_DATABASE_URL) for real concurrent transactions",
    ),
]


def test_concurrent_confirmations_issue_one_certificate(
    app, clock, create_user, create_criteria, participations
):
    citizen = create_user(Role.CITIZEN)
    create_criteria(min_participations=1, min_stages=1)
    services.ensure_signing_key()
    db.session.commit()

    def confirm() -> object:
        return participations.confirm(db.session.get(User, citizen.id))

    results = run_in_threads(app, 4, confirm)

    assert all(isinstance(result, str) for result in results), results  # every one committed
    db.session.rollback()
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(Certificate).where(Certificate.user_id == citizen.id)
    )
    assert count == 1
