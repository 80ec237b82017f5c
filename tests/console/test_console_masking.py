"""Console pages show other people masked by the one rule, as the API's answers do."""

from __future__ import annotations

import sqlalchemy as sa

from backend.extensions import db
from backend.participation.services import join_activity
from backend.permissions import Role
from backend.privacy.models import AccessRecord, AccessRecordSubject


def test_the_participant_list_shows_citizens_masked(create_user, create_activity, console_login):
    activity = create_activity()
    join_activity(actor=create_user(Role.CITIZEN, display_name="홍길동"), activity=activity)
    db.session.commit()
    client = console_login(create_user(Role.OFFICIAL))
    html = client.get(f"/console/activities/{activity.id}").get_data(as_text=True)
    assert "홍*동" in html
    assert "홍길동" not in html


def test_the_staff_account_list_shows_names_and_contacts_masked(create_user, console_login):
    create_user(Role.OFFICIAL, display_name="김철수", email="chulsoo.kim@example.test")
    client = console_login(create_user(Role.ADMIN))
    html = client.get("/console/admin/users").get_data(as_text=True)
    assert "김*수" in html and "ch***@example.test" in html
    assert "김철수" not in html and "chulsoo.kim@example.test" not in html


def test_the_staff_account_list_is_an_access_record(create_user, console_login):
    other = create_user(Role.OFFICIAL)
    admin = create_user(Role.ADMIN)
    client = console_login(admin)
    assert client.get("/console/admin/users").status_code == 200
    record = db.session.scalars(
        sa.select(AccessRecord).where(AccessRecord.resource == "users.list")
    ).one()
    subjects = set(
        db.session.scalars(
            sa.select(AccessRecordSubject.user_id).where(AccessRecordSubject.record_id == record.id)
        )
    )
    assert record.actor_id == admin.id and other.id in subjects
