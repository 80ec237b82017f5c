"""Concurrent joins never overbook: the seat counter is one atomic conditional UPDATE."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from backend.errors import RuleViolation
from backend.extensions import db
from backend.identity.models import User
from backend.participation import services
from backend.participation.models import Activity, Participation
from backend.permissions import Role

# Threads: each has its own app context and connection.
pytestmark = pytest.mark.real_commits


def test_concurrent_joins_fill_exactly_the_capacity(app, create_activity, create_user):
    activity = create_activity(capacity=3)
    people = [create_user(Role.CITIZEN).id for _ in range(10)]
    start = threading.Barrier(len(people))
    outcomes: list[str] = []

    def join(user_id: str) -> None:
        with app.app_context():
            user = db.session.get(User, user_id)
            found = services.get_activity(viewer=user, activity_id=activity.id)
            start.wait()
            try:
                services.join_activity(actor=user, activity=found)
                db.session.commit()
                outcomes.append("joined")
            except RuleViolation as error:
                db.session.rollback()
                outcomes.append(error.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=join, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["activity_full"] * 7 + ["joined"] * 3
    db.session.expire_all()
    assert db.session.get(Activity, activity.id).registered_count == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Participation)) == 3
