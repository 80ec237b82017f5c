"""Personal data in the console: the citizen page records its reads as the API does, shows the
name masked and the consents; guardian consent; access records, review, dormancy."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backend.clock import SEOUL, utcnow
from backend.extensions import db
from backend.permissions import Role
from backend.privacy.models import (
    AccessAction,
    AccessRecord,
    AccessRecordSubject,
    AssuranceRequirement,
    DormancyPolicy,
    GuardianConsent,
)


def _records_of(user_id: str) -> list[AccessRecord]:
    return list(
        db.session.scalars(
            sa.select(AccessRecord)
            .join(AccessRecordSubject, AccessRecordSubject.record_id == AccessRecord.id)
            .where(AccessRecordSubject.user_id == user_id)
            .order_by(AccessRecord.id)
        )
    )


def test_the_citizen_page_is_recorded_masked_and_shows_consents(app, create_user, console_login):
    official = create_user(Role.OFFICIAL)
    citizen = create_user(Role.CITIZEN, display_name="홍길동")
    client = console_login(official)
    answer = client.get(f"/console/citizens/{citizen.id}")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "<h1>홍*동</h1>" in html and "홍길동" not in html
    assert 'data-purpose="marketing_push"' in html
    records = _records_of(citizen.id)
    assert {r.resource for r in records} == {"user.rewards", "user.consents"}
    assert all(r.actor_id == official.id and r.action == AccessAction.VIEW for r in records)
    assert all(r.address for r in records)


def test_an_official_records_a_guardians_consent(app, create_user, console_login, form_token):
    official = create_user(Role.OFFICIAL)
    child = create_user(Role.CITIZEN)
    child.birth_year = utcnow().astimezone(SEOUL).year - 12
    db.session.commit()
    client = console_login(official)
    url = f"/console/citizens/{child.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'data-guardian="needed"' in page
    token = form_token(client, url)
    missing = client.post(f"{url}/guardian-consent", data={"csrf_token": token, "method": "x"})
    assert missing.status_code == 422
    saved = client.post(
        f"{url}/guardian-consent",
        data={"csrf_token": token, "method": "in_person", "relation": "모"},
    )
    assert saved.status_code == 303
    row = db.session.scalar(sa.select(GuardianConsent).where(GuardianConsent.user_id == child.id))
    assert row is not None and row.method.value == "in_person" and row.recorded_by == official.id
    assert 'data-guardian="recorded"' in client.get(url).get_data(as_text=True)


def test_guardian_consent_without_the_form_token_is_refused(app, create_user, console_login):
    client = console_login(create_user(Role.OFFICIAL))
    child = create_user(Role.CITIZEN)
    answer = client.post(
        f"/console/citizens/{child.id}/guardian-consent",
        data={"method": "in_person", "relation": "모"},
    )
    assert answer.status_code == 400


def test_admins_find_records_by_subject_and_dates(app, create_user, console_login):
    official = create_user(Role.OFFICIAL)
    citizen = create_user(Role.CITIZEN)
    other = create_user(Role.CITIZEN)
    console_login(official).get(f"/console/citizens/{citizen.id}")
    console_login(official).get(f"/console/citizens/{other.id}")
    admin = console_login(create_user(Role.ADMIN))
    today = utcnow().astimezone(SEOUL).date()
    html = admin.get(
        f"/console/admin/access-records?subject_id={citizen.id}&since={today - timedelta(days=365)}"
    ).get_data(as_text=True)
    assert html.count('data-resource="user.consents"') == 1
    # `until` includes its day; a range that ended yesterday holds nothing of today.
    html = admin.get(
        f"/console/admin/access-records?subject_id={citizen.id}&until={today}"
    ).get_data(as_text=True)
    assert html.count('data-resource="user.consents"') == 1
    html = admin.get(
        f"/console/admin/access-records?subject_id={citizen.id}&until={today - timedelta(days=1)}"
    ).get_data(as_text=True)
    assert 'data-resource="user.consents"' not in html
    html = admin.get("/console/admin/access-records?action=export").get_data(as_text=True)
    assert 'data-resource="user.consents"' not in html


def test_the_review_counts_the_month(app, create_user, console_login):
    official = create_user(Role.OFFICIAL)
    citizen = create_user(Role.CITIZEN)
    console_login(official).get(f"/console/citizens/{citizen.id}")
    admin = console_login(create_user(Role.ADMIN))
    month = utcnow().astimezone(SEOUL).strftime("%Y-%m")
    html = admin.get(f"/console/admin/access-records/review?month={month}").get_data(as_text=True)
    # The rewards, the certificate holders (none: a record of 0 people, as the API writes) and
    # the consents.
    assert 'data-total="records">3<' in html
    # A month that is not one falls back to the month just ended.
    assert admin.get("/console/admin/access-records/review?month=2026-13").status_code == 200


def test_only_admins_open_the_records_and_consent_texts(app, create_user, console_login):
    client = console_login(create_user(Role.OFFICIAL))
    for url in (
        "/console/admin/access-records",
        "/console/admin/access-records/review",
        "/console/admin/consents",
    ):
        assert client.get(url).status_code == 403, url
    admin = console_login(create_user(Role.ADMIN))
    assert 'data-version="' in admin.get("/console/admin/consents").get_data(as_text=True)


def test_an_official_sets_the_dormancy_policy_of_their_municipality(
    app, create_user, console_login, form_token, municipality
):
    client = console_login(create_user(Role.OFFICIAL))
    url = "/console/privacy/dormancy"
    assert 'data-policy="none"' in client.get(url).get_data(as_text=True)
    token = form_token(client, url)
    bad = client.post(
        url,
        data={"csrf_token": token, "inactive_months": "0", "action": "delete", "notice_days": "30"},
    )
    assert bad.status_code == 422
    saved = client.post(
        url,
        data={
            "csrf_token": token,
            "inactive_months": "12",
            "action": "delete",
            "notice_days": "30",
        },
    )
    assert saved.status_code == 303
    policy = db.session.get(DormancyPolicy, municipality.id)
    assert policy.inactive_months == 12 and policy.action == "delete"
    analyst = console_login(create_user(Role.ANALYST))
    page = analyst.get(f"{url}?municipality_id={municipality.id}").get_data(as_text=True)
    assert 'data-policy="set"' in page and "inactive_months" not in page


def test_an_official_requires_an_assurance_level(
    app,
    create_user,
    console_login,
    form_token,
    create_activity,
    create_project,
    create_committee,
    other_municipality,
):
    activity = create_activity(title="본인확인 워크숍")
    committee = create_committee()
    foreign = create_activity(project=create_project(other_municipality))
    client = console_login(create_user(Role.OFFICIAL))
    url = "/console/privacy/assurance"
    html = client.get(url).get_data(as_text=True)
    assert f'data-target="{activity.id}" data-level="1"' in html
    assert f'data-target="{committee.id}" data-level="1"' in html
    assert foreign.id not in html
    token = form_token(client, url)
    saved = client.post(f"{url}/activity/{activity.id}", data={"csrf_token": token, "level": "2"})
    assert saved.status_code == 303
    saved = client.post(f"{url}/committee/{committee.id}", data={"csrf_token": token, "level": "3"})
    assert saved.status_code == 303
    html = client.get(url).get_data(as_text=True)
    assert f'data-target="{activity.id}" data-level="2"' in html
    assert f'data-target="{committee.id}" data-level="3"' in html
    bad = client.post(f"{url}/activity/{activity.id}", data={"csrf_token": token, "level": "4"})
    assert bad.status_code == 422
    other = client.post(f"{url}/activity/{foreign.id}", data={"csrf_token": token, "level": "2"})
    assert other.status_code == 404
    assert db.session.get(AssuranceRequirement, ("activity", foreign.id)) is None
    analyst = console_login(create_user(Role.ANALYST))
    assert analyst.get(url).status_code == 403


def test_a_bad_filter_answers_an_error_not_every_record(app, create_user, console_login):
    official = create_user(Role.OFFICIAL)
    citizen = create_user(Role.CITIZEN)
    console_login(official).get(f"/console/citizens/{citizen.id}")
    admin = console_login(create_user(Role.ADMIN))
    for query in ("subject_id=not-an-id", f"subject_id={citizen.id}&since=2026-02-31"):
        answer = admin.get(f"/console/admin/access-records?{query}")
        assert answer.status_code == 422, query
        html = answer.get_data(as_text=True)
        assert 'role="alert"' in html and 'id="access-records"' not in html
