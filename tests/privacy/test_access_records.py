"""Access records: written by staff lists and exports, read by admins, reviewed monthly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.permissions import Role
from backend.privacy import access
from backend.privacy.models import AccessAction, AccessRecord, AccessRecordSubject


@pytest.fixture
def join(ctx):
    """join(activity, citizen): the citizen registers for the activity."""
    from backend.participation.services import join_activity

    def make(activity, citizen):
        join_activity(actor=citizen, activity=activity)
        db.session.commit()

    return make


def _records(resource=None):
    query = sa.select(AccessRecord).order_by(AccessRecord.id)
    if resource:
        query = query.where(AccessRecord.resource == resource)
    return list(db.session.scalars(query))


def _subjects(record):
    return set(
        db.session.scalars(
            sa.select(AccessRecordSubject.user_id).where(AccessRecordSubject.record_id == record.id)
        )
    )


def test_a_participant_list_is_recorded_with_who_when_where_and_whom(
    client, as_role, create_activity, create_user, join
):
    official, headers = as_role(Role.OFFICIAL)
    activity = create_activity()
    citizens = [create_user(Role.CITIZEN) for _ in range(3)]
    for citizen in citizens:
        join(activity, citizen)
    response = client.get(f"/api/v1/activities/{activity.id}/participations", headers=headers)
    assert response.status_code == 200
    [record] = _records("activity.participations")
    assert record.actor_id == official.id and record.actor_role == "official"
    assert record.action == AccessAction.VIEW
    assert record.resource_id == activity.id
    assert record.subject_count == 3
    assert record.address == "127.0.0.1"
    assert record.created_at is not None
    assert _subjects(record) == {c.id for c in citizens}


def test_a_csv_export_needs_a_reason_and_is_recorded_with_it(
    client, as_role, create_activity, create_user, join
):
    _official, headers = as_role(Role.OFFICIAL)
    activity = create_activity()
    citizen = create_user(Role.CITIZEN, display_name="홍길동")
    join(activity, citizen)
    url = f"/api/v1/activities/{activity.id}/participations?format=csv"
    refused = client.get(url, headers=headers)
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "reason_required"
    assert "reason" in refused.json["error"]["fields"]
    assert _records() == []
    done = client.get(url + "&reason=출석부 작성", headers=headers)
    assert done.status_code == 200
    assert done.content_type.startswith("text/csv")
    text = done.get_data(as_text=True)
    assert "홍*동" in text and "홍길동" not in text  # masked as in JSON
    [record] = _records()
    assert record.action == AccessAction.EXPORT and record.reason == "출석부 작성"


def test_a_csv_export_of_accounts_records_the_accounts_themselves(client, as_role, create_user):
    # The rows of /users are the people (their own id), not rows holding a user_id.
    _official, headers = as_role(Role.OFFICIAL)
    citizen = create_user(Role.CITIZEN, display_name="김철수")
    done = client.get("/api/v1/users?format=csv&reason=명단 점검", headers=headers)
    assert done.status_code == 200
    assert done.content_type.startswith("text/csv")
    assert "김*수" in done.get_data(as_text=True)
    [record] = _records("users.list")
    assert record.action == AccessAction.EXPORT and citizen.id in _subjects(record)


def test_a_search_by_phone_is_recorded_as_a_search(client, as_role, create_user):
    _official, headers = as_role(Role.OFFICIAL)
    citizen = create_user(Role.CITIZEN, phone="01055556666")
    found = client.get("/api/v1/users?q=010-5555-6666", headers=headers).json["items"]
    assert [u["id"] for u in found] == [citizen.id]
    [record] = _records("users.search")
    assert _subjects(record) == {citizen.id}


def test_a_citizen_reading_their_own_data_writes_no_record(client, as_role):
    _citizen, headers = as_role(Role.CITIZEN)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.get("/api/v1/me/participations", headers=headers).status_code == 200
    assert _records() == []


def test_admin_answers_who_looked_at_this_citizen_in_one_query(client, as_role, create_user):
    _official, official_headers = as_role(Role.OFFICIAL)
    _admin, admin_headers = as_role(Role.ADMIN)
    citizen, other = create_user(Role.CITIZEN), create_user(Role.CITIZEN)
    client.get(f"/api/v1/users/{citizen.id}", headers=official_headers)
    client.get(f"/api/v1/users/{other.id}", headers=official_headers)
    since = (datetime.now(UTC) - timedelta(days=365)).isoformat()
    response = client.get(
        "/api/v1/access-records",
        headers=admin_headers,
        query_string={"subject_id": citizen.id, "since": since},
    )
    assert response.status_code == 200
    assert [(r["actor_id"], r["resource"]) for r in response.json["items"]] == [
        (_official.id, "user")
    ]
    # The admin's own reading of the records is not a read of citizens' profiles.
    assert client.get("/api/v1/access-records", headers=official_headers).status_code == 403


def test_no_endpoint_changes_or_deletes_an_access_record(app):
    for rule in app.url_map.iter_rules():
        if "access-records" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


def test_retention_keeps_two_years_at_least(app, ctx, create_user):
    official = create_user(Role.OFFICIAL)
    now = datetime.now(UTC)
    for age_days in (10, 729, 731):
        record_id = access.record_access(
            actor=official,
            address="10.0.0.1",
            action=AccessAction.VIEW,
            resource="users.list",
            subject_ids=["01JD8X7Q2M4N5P6R7S8T9V0W1X"],
        )
        db.session.execute(
            sa.update(AccessRecord)
            .where(AccessRecord.id == record_id)
            .values(created_at=now - timedelta(days=age_days))
        )
    db.session.commit()
    assert access.purge_access_records(now=now) == 1
    assert len(_records()) == 2
    app.config["ACCESS_RECORD_RETENTION_DAYS"], before = (
        30,
        app.config["ACCESS_RECORD_RETENTION_DAYS"],
    )
    try:
        assert access.purge_access_records(now=now) == 1
    finally:
        app.config["ACCESS_RECORD_RETENTION_DAYS"] = before


def test_the_monthly_review_flags_export_spikes_and_off_hours(client, ctx, as_role, create_user):
    busy = create_user(Role.OFFICIAL)
    calm = create_user(Role.OFFICIAL)
    _admin, headers = as_role(Role.ADMIN)

    def write(actor, action, when):
        record_id = access.record_access(
            actor=actor,
            address=None,
            action=action,
            resource="users.list",
            subject_ids=[],
            reason="점검",
        )
        db.session.execute(
            sa.update(AccessRecord).where(AccessRecord.id == record_id).values(created_at=when)
        )

    # Calm: one export a month for six months, one this month at 10:00 KST on a weekday.
    for month in range(5, 11):
        write(calm, AccessAction.EXPORT, datetime(2026, month, 6, 1, tzinfo=UTC))
    write(calm, AccessAction.EXPORT, datetime(2026, 11, 4, 1, tzinfo=UTC))
    # Busy: twenty exports this month, and a view at 23:30 KST.
    for day in range(2, 22):
        write(busy, AccessAction.EXPORT, datetime(2026, 11, day, 2, tzinfo=UTC))
    write(busy, AccessAction.VIEW, datetime(2026, 11, 4, 14, 30, tzinfo=UTC))
    db.session.commit()
    review = client.get("/api/v1/access-records/review?month=2026-11", headers=headers).json
    kinds = {(flag["actor_id"], flag["kind"]) for flag in review["flags"]}
    assert (busy.id, "export_volume") in kinds
    assert (busy.id, "off_hours") in kinds
    assert not any(actor == calm.id for actor, _ in kinds)
    assert review["exports"] == 21


@pytest.mark.parametrize("month", ["2026-13", "26-11", "2026-1"])
def test_a_bad_month_is_422(client, as_role, month):
    _admin, headers = as_role(Role.ADMIN)
    response = client.get(f"/api/v1/access-records/review?month={month}", headers=headers)
    assert response.status_code == 422
