"""Identity assurance through a plugged-in provider: a fake one shows the whole path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag

from backend.extensions import db
from backend.permissions import Role
from backend.privacy import assurance
from backend.privacy.models import IdentityAssurance

CI = "A" * 86 + "=="  # a CI is 88 characters of base64
DI = "B" * 62 + "=="


class FakeProvider:
    """Answers `ok-<level>` tokens; anything else is a failed check."""

    name = "fake-pass"

    def verify(self, result_token: str) -> assurance.AssuranceResult:
        if result_token == "rrn":
            return assurance.AssuranceResult(
                self.name, 2, datetime(2026, 3, 2, tzinfo=UTC), ci="900101-1234567"
            )
        if not result_token.startswith("ok-"):
            raise ValueError("the check did not pass")
        return assurance.AssuranceResult(
            self.name, int(result_token[3:]), datetime(2026, 3, 2, tzinfo=UTC), ci=CI, di=DI
        )


@pytest.fixture
def fake_provider(app):
    app.extensions["identity_provider"] = FakeProvider()
    yield
    app.extensions.pop("identity_provider", None)


def test_a_check_is_stored_with_ci_and_di_encrypted(client, as_role, fake_provider):
    citizen, headers = as_role(Role.CITIZEN)
    response = client.post(
        "/api/v1/me/identity-assurance", headers=headers, json={"result_token": "ok-2"}
    )
    assert response.status_code == 200, response.json
    assert response.json["level"] == 2 and response.json["provider"] == "fake-pass"
    assert CI not in response.get_data(as_text=True)
    row = db.session.get(IdentityAssurance, citizen.id)
    assert CI.encode() not in row.ci_encrypted
    assert assurance.unseal(row.ci_encrypted, citizen.id) == CI
    assert assurance.unseal(row.di_encrypted, citizen.id) == DI
    with pytest.raises(InvalidTag):  # bound to the account: another id does not decrypt it
        assurance.unseal(row.ci_encrypted, "01JD8X7Q2M4N5P6R7S8T9V0W1X")


def test_a_failed_check_or_a_resident_number_is_refused(client, as_role, fake_provider):
    _citizen, headers = as_role(Role.CITIZEN)
    for token in ("bad", "rrn"):
        response = client.post(
            "/api/v1/me/identity-assurance", headers=headers, json={"result_token": token}
        )
        assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdentityAssurance)) == 0


def test_an_activity_requiring_a_level_refuses_a_citizen_below_it(
    client, as_role, create_activity, fake_provider
):
    _official, staff = as_role(Role.OFFICIAL)
    _citizen, headers = as_role(Role.CITIZEN)
    activity = create_activity()
    set_level = client.put(
        f"/api/v1/activities/{activity.id}/assurance-requirement",
        headers=staff,
        json={"level": 2},
    )
    assert set_level.status_code == 200
    url = f"/api/v1/activities/{activity.id}/participations"
    refused = client.post(url, headers=headers, json={})
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "assurance_level_required"
    client.post("/api/v1/me/identity-assurance", headers=headers, json={"result_token": "ok-2"})
    assert client.post(url, headers=headers, json={}).status_code == 201


def test_no_provider_configured_is_a_403(client, as_role, app):
    app.extensions["identity_provider"] = None
    try:
        _citizen, headers = as_role(Role.CITIZEN)
        response = client.post(
            "/api/v1/me/identity-assurance", headers=headers, json={"result_token": "ok-2"}
        )
        assert response.status_code == 403
    finally:
        app.extensions.pop("identity_provider", None)
