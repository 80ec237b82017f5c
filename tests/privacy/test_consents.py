"""Consent per purpose at sign-up, withdrawal, re-consent on a new text, and under-14 accounts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from backend.extensions import db
from backend.identity.models import User
from backend.notifications.models import NotificationPreference
from backend.notifications.services import topics_for
from backend.permissions import Role
from backend.privacy import consents as consent_rules
from backend.privacy.models import Consent, GuardianConsent
from tests.fixtures.identity import auth_headers_for
from tests.privacy.signup import consents, signup_fields


def _register(client, municipality, email="citizen@example.test", **fields):
    body = {
        "email": email,
        "password": "a-long-password",
        "display_name": "홍길동",
        "municipality_id": municipality.id,
        **signup_fields(),
        **fields,
    }
    return client.post("/api/v1/auth/register", json=body)


def test_sign_up_records_each_purpose_with_version_time_and_channel(client, municipality):
    response = _register(client, municipality, consents=consents(marketing_push=True))
    assert response.status_code == 201, response.json
    user = User.query.filter_by(email="citizen@example.test").one()
    rows = {row.purpose: row for row in Consent.query.filter_by(user_id=user.id)}
    assert set(rows) == set(consent_rules.CONSENT_TEXTS)
    assert rows["service"].granted and rows["marketing_push"].granted
    assert not rows["photos"].granted and not rows["volunteer_registry"].granted
    assert {row.version for row in rows.values()} == {"2026-12-01"}
    assert {row.channel.value for row in rows.values()} == {"app"}
    assert all(row.created_at is not None for row in rows.values())
    shown = client.get("/api/v1/me/consents", headers=auth_headers_for(user)).json
    assert [s["purpose"] for s in shown if s["granted"]] == ["service", "marketing_push"]
    assert not any(s["outdated"] for s in shown)


@pytest.mark.parametrize(
    "bad",
    [
        [{"purpose": "service", "version": "2026-12-01", "granted": False}],
        [{"purpose": "service", "version": "2020-01-01", "granted": True}],
        [{"purpose": "photos", "version": "2026-12-01", "granted": True}],
    ],
)
def test_sign_up_without_the_required_consent_on_the_current_text_is_refused(
    client, municipality, table_counts, bad
):
    before = table_counts()
    response = _register(client, municipality, consents=bad)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "consent_invalid"
    assert "consents.service" in response.json["error"]["fields"]
    assert table_counts() == before


def test_withdrawing_marketing_stops_programme_pushes_at_once(client, municipality):
    _register(client, municipality, consents=consents(marketing_push=True))
    user = User.query.filter_by(email="citizen@example.test").one()
    headers = auth_headers_for(user)
    assert topics_for(user=user) == [f"municipality-{municipality.id}"]
    response = client.post("/api/v1/me/consents/marketing_push/withdraw", headers=headers)
    assert response.status_code == 200
    assert response.json["granted"] is False
    assert db.session.get(NotificationPreference, user.id).announcements is False
    assert topics_for(user=user) == []
    # Switching announcement pushes back on needs the consent again.
    refused = client.patch(
        "/api/v1/me/notification-preferences", headers=headers, json={"announcements": True}
    )
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "consent_missing"
    again = client.post(
        "/api/v1/me/consents",
        headers=headers,
        json={
            "consents": [{"purpose": "marketing_push", "version": "2026-12-01", "granted": True}]
        },
    )
    assert again.status_code == 200
    assert topics_for(user=user) == [f"municipality-{municipality.id}"]


def test_sign_up_without_marketing_consent_gets_no_programme_pushes(client, municipality):
    _register(client, municipality)
    user = User.query.filter_by(email="citizen@example.test").one()
    assert topics_for(user=user) == []


def test_the_required_consent_cannot_be_withdrawn(client, municipality):
    _register(client, municipality)
    user = User.query.filter_by(email="citizen@example.test").one()
    response = client.post("/api/v1/me/consents/service/withdraw", headers=auth_headers_for(user))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "consent_required"


def test_a_new_text_version_asks_again_only_for_that_purpose(client, municipality, monkeypatch):
    _register(client, municipality, consents=consents(photos=True))
    user = User.query.filter_by(email="citizen@example.test").one()
    headers = auth_headers_for(user)
    texts = dict(consent_rules.CONSENT_TEXTS)
    texts["photos"] = replace(texts["photos"], version="2027-01-01")
    monkeypatch.setattr(consent_rules, "CONSENT_TEXTS", texts)
    shown = client.get("/api/v1/me/consents", headers=headers).json
    assert [s["purpose"] for s in shown if s["outdated"]] == ["photos"]
    stale = client.post(
        "/api/v1/me/consents",
        headers=headers,
        json={"consents": [{"purpose": "photos", "version": "2026-12-01", "granted": True}]},
    )
    assert stale.status_code == 422
    fresh = client.post(
        "/api/v1/me/consents",
        headers=headers,
        json={"consents": [{"purpose": "photos", "version": "2027-01-01", "granted": True}]},
    )
    assert fresh.status_code == 200
    assert not any(s["outdated"] for s in fresh.json)


def test_an_under_14_account_is_limited_until_a_guardian_consents(
    client, clock, municipality, as_role, create_activity
):
    this_year = clock.now.year
    response = _register(client, municipality, birth_year=this_year - 12)
    assert response.status_code == 201
    assert response.json["limited"] is True
    child = User.query.filter_by(email="citizen@example.test").one()
    headers = auth_headers_for(child)
    activity = create_activity()
    refused = client.post(f"/api/v1/activities/{activity.id}/participations", headers=headers)
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "guardian_consent_required"
    # Reading and the child's own account stay open.
    assert client.get("/api/v1/me/consents", headers=headers).status_code == 200
    official, staff = as_role(Role.OFFICIAL)
    recorded = client.post(
        f"/api/v1/users/{child.id}/guardian-consent",
        headers=staff,
        json={"method": "paper_form", "relation": "모"},
    )
    assert recorded.status_code == 201, recorded.json
    assert GuardianConsent.query.filter_by(user_id=child.id).one().recorded_by == official.id
    assert client.get("/api/v1/me", headers=headers).json["limited"] is False
    joined = client.post(f"/api/v1/activities/{activity.id}/participations", headers=headers)
    assert joined.status_code != 403, joined.json


def test_an_adult_is_not_limited(client, municipality):
    response = _register(client, municipality, birth_year=1980)
    assert response.json["limited"] is False
