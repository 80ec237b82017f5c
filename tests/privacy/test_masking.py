"""The one masking rule, and that endpoints showing people to others all apply it."""

from __future__ import annotations

import pytest

from backend.permissions import Role
from backend.privacy.masking import mask_email, mask_name, mask_name_or_blank, mask_phone


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("홍길동", "홍*동"),
        ("홍길", "홍*"),
        ("남궁민수", "남궁*수"),
        ("황보선우진", "황보**진"),
        ("김철수민", "김**민"),
        ("김", "*"),
    ],
)
def test_names(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_a_missing_name_shows_as_the_mask_alone() -> None:
    assert mask_name_or_blank("") == mask_name_or_blank(None) == "*"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("01012345678", "010-1234-****"),
        ("010-1234-5678", "010-1234-****"),
        ("0111234567", "011-123-****"),
        ("0212345678", "02-1234-****"),
        ("021234567", "02-123-****"),
        ("12345", "****"),
        (None, None),
    ],
)
def test_phones(phone: str | None, masked: str | None) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("hong.gildong@example.com", "ho***@example.com"),
        ("ab@example.com", "a***@example.com"),
        ("a@example.com", "a***@example.com"),
        ("broken", "***"),
        (None, None),
    ],
)
def test_emails(email: str | None, masked: str | None) -> None:
    assert mask_email(email) == masked


def test_staff_see_accounts_masked_and_the_owner_sees_their_own(
    client, as_role, create_user, auth_headers
):
    _official, headers = as_role(Role.OFFICIAL)
    citizen = create_user(
        Role.CITIZEN, email="hong.gildong@example.com", phone="01012345678", display_name="홍길동"
    )
    listed = client.get("/api/v1/users?limit=100", headers=headers).json["items"]
    one = client.get(f"/api/v1/users/{citizen.id}", headers=headers).json
    for shown in ([u for u in listed if u["id"] == citizen.id][0], one):
        assert shown["display_name"] == "홍*동"
        assert shown["email"] == "ho***@example.com"
        assert shown["phone"] == "010-1234-****"
    own = client.get("/api/v1/me", headers=auth_headers(citizen)).json
    assert (own["display_name"], own["email"], own["phone"]) == (
        "홍길동",
        "hong.gildong@example.com",
        "01012345678",
    )


def test_a_committee_member_is_masked_for_the_official_who_appointed_them(
    client, as_role, create_user
):
    _official, headers = as_role(Role.OFFICIAL)
    created = client.post(
        "/api/v1/committees",
        headers=headers,
        json={"name": "시민위원회", "seats": 3, "term_months": 12, "requires_certificate": False},
    )
    assert created.status_code == 201, created.json
    citizen = create_user(Role.CITIZEN, display_name="남궁민수")
    appointed = client.post(
        f"/api/v1/committees/{created.json['id']}/appointments",
        headers=headers,
        json={"user_id": citizen.id, "role": "member", "term_start": "2026-03-02"},
    )
    assert appointed.status_code == 201, appointed.json
    assert appointed.json["member"]["display_name"] == "남궁*수"


def test_the_contract_marks_masked_fields() -> None:
    from backend.identity.schemas import UserPublicSchema, UserStaffSchema

    for schema, names in (
        (UserPublicSchema, ["display_name"]),
        (UserStaffSchema, ["display_name", "email", "phone"]),
    ):
        for name in names:
            assert schema().fields[name].metadata["description"].startswith("Masked")
