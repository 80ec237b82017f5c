"""The recording fast path (backend.api.participation.install_record_fast_path) answers and
writes exactly what the Flask view does, and hands every other request to the view."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import g

from backend.audit.models import AuditEntry
from backend.extensions import db
from backend.idempotency.models import IdempotencyRecord
from backend.notifications.models import Notification, OutboxMessage
from backend.participation import services
from backend.participation.models import Activity, Participation
from backend.permissions import Role

SETTING = "RECORD_FAST_PATH"
#: Columns that differ between two records of different citizens: new ids, the citizen.
_OWN = {"id", "user_id", "target_id", "participation_id", "notification_id", "device_id", "key"}


@pytest.fixture
def view_only(app, monkeypatch):
    """Turn the fast path off for the block: `with view_only(): ...`."""

    class Switch:
        def __enter__(self) -> None:
            monkeypatch.setitem(app.config, SETTING, False)

        def __exit__(self, *_exc: object) -> None:
            monkeypatch.setitem(app.config, SETTING, True)

    return Switch


@pytest.fixture
def no_view(monkeypatch):
    """Make the view's service fail: a request that still succeeds was served by the fast path."""

    def refuse(**_kwargs: Any) -> None:
        raise AssertionError("the Flask view ran")

    monkeypatch.setattr(services, "record_participation", refuse)


def _record(client, headers, activity_id: str, body: dict, key: str | None = None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(
        f"/api/v1/activities/{activity_id}/participations",
        json=body,
        headers={**headers, **extra},
    )


def _neutral(value: Any, own: tuple[str, ...]) -> Any:
    """The value with the record's own ids (citizen, participation) blanked wherever they are."""
    if isinstance(value, str):
        for own_id in own:
            value = value.replace(own_id, "<own>")
        return value
    if isinstance(value, dict):
        return {name: _neutral(item, own) for name, item in value.items()}
    if isinstance(value, list):
        return [_neutral(item, own) for item in value]
    return value


def _rows(model, where, own: tuple[str, ...]) -> list[dict[str, Any]]:
    found = db.session.scalars(sa.select(model).where(where)).all()
    return [
        {
            c.key: _neutral(getattr(row, c.key), own)
            for c in model.__table__.columns
            if c.key not in _OWN
        }
        for row in found
    ]


def _written_for(user_id: str, participation_id: str) -> dict[str, Any]:
    db.session.rollback()
    own = (user_id, participation_id)
    notifications = db.session.scalars(
        sa.select(Notification.id).where(Notification.user_id == user_id)
    ).all()
    return {
        "participation": _rows(Participation, Participation.id == participation_id, own),
        "audit": _rows(AuditEntry, AuditEntry.target_id == participation_id, own),
        "inbox": _rows(Notification, Notification.user_id == user_id, own),
        "outbox": _rows(OutboxMessage, OutboxMessage.notification_id.in_(notifications), own),
    }


def _without_own(answer: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in answer.items() if name not in _OWN}


def test_a_plain_record_is_served_in_front_of_flask_with_the_views_answer_and_rows(
    app, client, clock, as_role, create_activity, create_user, create_device, view_only, monkeypatch
):
    official, headers = as_role("official")
    activity = create_activity(capacity=5)
    by_view, by_fast = create_user(Role.CITIZEN), create_user(Role.CITIZEN)
    for citizen in (by_view, by_fast):
        create_device(citizen)
    with view_only():
        reference = _record(client, headers, activity.id, {"user_id": by_view.id}, key="k-view")
    record = services.record_participation
    monkeypatch.setattr(services, "record_participation", None)  # the view would crash
    fast = _record(client, headers, activity.id, {"user_id": by_fast.id}, key="k-fast")
    monkeypatch.setattr(services, "record_participation", record)

    assert (reference.status_code, fast.status_code) == (201, 201)
    assert fast.headers["Content-Type"] == reference.headers["Content-Type"]
    assert _without_own(fast.get_json()) == _without_own(reference.get_json())
    assert fast.get_json()["user_id"] == by_fast.id
    expected = _written_for(by_view.id, reference.get_json()["id"])
    assert expected["participation"] and expected["audit"] and expected["outbox"]
    assert _written_for(by_fast.id, fast.get_json()["id"]) == expected
    db.session.expire_all()
    assert db.session.get(Activity, activity.id).registered_count == 2
    stored = {
        row.key: row
        for row in db.session.scalars(sa.select(IdempotencyRecord).order_by(IdempotencyRecord.key))
    }
    assert stored["k-fast"].body == fast.get_data()
    assert stored["k-view"].body == reference.get_data()
    assert (
        stored["k-fast"].status_code,
        stored["k-fast"].content_type,
        stored["k-fast"].scope,
    ) == (
        stored["k-view"].status_code,
        stored["k-view"].content_type,
        stored["k-view"].scope,
    )


def test_a_fast_answer_is_replayed_by_the_view_and_its_key_guards_other_bodies(
    client, as_role, create_activity, create_user
):
    _official, headers = as_role("official")
    activity = create_activity()
    citizen, other = create_user(Role.CITIZEN), create_user(Role.CITIZEN)
    first = _record(client, headers, activity.id, {"user_id": citizen.id}, key="k1")
    again = _record(client, headers, activity.id, {"user_id": citizen.id}, key="k1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    reused = _record(client, headers, activity.id, {"user_id": other.id}, key="k1")
    assert reused.status_code == 409
    assert reused.get_json()["error"]["code"] == "idempotency_key_reused"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Participation)) == 1


def _same_refusal_both_ways(client, view_only, table_counts, send) -> Any:
    """Send the request with the fast path on, then off: same answer, nothing written."""
    before = table_counts()
    fast = send()
    assert table_counts() == before
    with view_only():
        reference = send()
    assert table_counts() == before
    assert fast.status_code == reference.status_code
    assert 400 <= fast.status_code < 500
    assert fast.get_json() == reference.get_json()
    return fast.get_json()["error"]["code"]


def test_every_request_the_fast_path_does_not_handle_gets_the_views_answer(
    app,
    client,
    as_role,
    create_activity,
    create_project,
    create_user,
    other_municipality,
    view_only,
    table_counts,
):
    official, headers = as_role("official")
    activity = create_activity(capacity=1)
    citizen, seated = create_user(Role.CITIZEN), create_user(Role.CITIZEN)
    assert _record(client, headers, activity.id, {"user_id": seated.id}).status_code == 201
    elsewhere = create_activity(create_project(other_municipality))
    draft = create_activity(create_project(status="draft"))
    outsider = create_user(Role.CITIZEN, municipality=other_municipality)
    colleague = create_user(Role.OFFICIAL)
    open_activity = create_activity()
    _citizen, citizen_headers = as_role("citizen")

    def refused(body: dict, *, to: str = open_activity.id, key: str | None = None, **kw: Any):
        def send():
            if "data" in kw:
                return client.post(
                    f"/api/v1/activities/{to}/participations",
                    headers=kw["headers"],
                    data=kw["data"],
                )
            return _record(client, kw.get("headers", headers), to, body, key=key)

        return _same_refusal_both_ways(client, view_only, table_counts, send)

    assert refused({"user_id": citizen.id}, to=activity.id) == "activity_full"
    assert refused({"user_id": seated.id}, to=activity.id) == "already_joined"
    assert refused({"user_id": citizen.id}, to=elsewhere.id) == "activity_not_found"
    assert refused({"user_id": citizen.id}, to="01JD8X7Q2M4N5P6R7S8T9V0W1X") == "activity_not_found"
    assert refused({"user_id": citizen.id}, to="not-an-id") == "activity_not_found"
    assert refused({"user_id": citizen.id}, to=draft.id) == "project_not_open"
    assert refused({"user_id": outsider.id}) == "user_not_found"
    assert refused({"user_id": colleague.id}) == "user_not_found"
    assert refused({"user_id": "01JD8X7Q2M4N5P6R7S8T9V0W1X"}) == "user_not_found"
    assert refused({"user_id": citizen.id, "note": "x"}) == "validation_failed"
    assert refused({"user_id": citizen.id, "attended": "maybe"}) == "validation_failed"
    assert refused({"user_id": "nope"}) == "validation_failed"
    assert refused({"user_id": citizen.id}, key="bad key") == "idempotency_key_invalid"
    assert refused({"user_id": citizen.id}, headers={}) == "token_missing"
    assert refused({"user_id": citizen.id}, headers={"Authorization": "Bearer x.y.z"}) == (
        "token_invalid"
    )
    assert refused({"user_id": citizen.id}, headers=citizen_headers) == "validation_failed"
    assert (
        refused(
            {},
            headers={**headers, "Content-Type": "text/plain"},
            data=f'{{"user_id": "{citizen.id}"}}',
        )
        == "unsupported_media_type"  # a body must be JSON (415)
    )


def test_a_logout_or_a_demotion_takes_effect_on_the_fast_path_at_once(
    client, as_role, create_activity, create_user, view_only, table_counts
):
    official, headers = as_role("official")
    activity = create_activity()
    citizen = create_user(Role.CITIZEN)

    def send():
        return _record(client, headers, activity.id, {"user_id": citizen.id})

    official.role = Role.CITIZEN
    db.session.commit()
    assert _same_refusal_both_ways(client, view_only, table_counts, send) == "validation_failed"
    official.role = Role.OFFICIAL
    db.session.commit()
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    # The test client shares the test's app context, where the logout request left the
    # loaded session in `g`; a real request starts without it.
    g.pop("caller_session")
    assert _same_refusal_both_ways(client, view_only, table_counts, send) == "token_revoked"


def test_rejoining_and_citizens_joining_go_to_the_view(
    client, as_role, create_activity, create_user, monkeypatch
):
    _official, headers = as_role("official")
    activity = create_activity()
    citizen, citizen_headers = as_role("citizen")
    calls: list[str] = []
    for name in ("record_participation", "join_activity"):
        original = getattr(services, name)

        def spy(*, _original=original, _name=name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _original(**kwargs)

        monkeypatch.setattr(services, name, spy)
    joined = _record(client, citizen_headers, activity.id, {})
    assert joined.status_code == 201 and calls == ["join_activity"]
    cancel = client.post(
        f"/api/v1/participations/{joined.get_json()['id']}/cancel", headers=citizen_headers
    )
    assert cancel.status_code == 200
    again = _record(client, headers, activity.id, {"user_id": citizen.id})
    assert again.status_code == 201 and calls == ["join_activity", "record_participation"]
    assert again.get_json()["id"] == joined.get_json()["id"]
