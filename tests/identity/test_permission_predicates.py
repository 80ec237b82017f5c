"""The row-level predicates moved into backend/permissions.py, on plain objects (no database):
each answers as the inline check it replaced did."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from backend.permissions import (
    Role,
    access_is_recorded,
    can_decide_dispute,
    can_nominate,
    can_read_access_records,
    can_revoke_certificates,
    can_run_mediation,
    can_see_dormancy_policy,
    can_set_dormancy_policy,
    can_take_course,
)

HOME, ABROAD = "m-home", "m-abroad"


def user(role: Role, municipality_id: str | None = HOME, user_id: str = "u-1"):
    return SimpleNamespace(id=user_id, role=role, municipality_id=municipality_id)


@pytest.mark.parametrize(
    ("audience", "admitted"),
    [
        ("all", set(Role)),
        ("officials", set(Role) - {Role.CITIZEN}),
        ("residents", {Role.CITIZEN}),
    ],
)
def test_a_course_admits_its_audience(audience, admitted):
    course = SimpleNamespace(audience=audience)
    assert {r for r in Role if can_take_course(user(r), course)} == admitted


def test_citizens_neither_nominate_nor_have_their_reading_recorded():
    assert {r for r in Role if can_nominate(user(r))} == set(Role) - {Role.CITIZEN}
    assert {r for r in Role if access_is_recorded(user(r))} == set(Role) - {Role.CITIZEN}


def test_certificates_are_revoked_by_officials_and_admins_and_access_records_read_by_admins():
    assert {r for r in Role if can_revoke_certificates(user(r))} == {Role.OFFICIAL, Role.ADMIN}
    assert {r for r in Role if can_read_access_records(user(r))} == {Role.ADMIN}


def test_dormancy_policy_is_read_by_staff_who_see_the_place_and_set_by_officials_and_admins():
    readers = {r for r in Role if can_see_dormancy_policy(user(r), HOME)}
    assert readers == set(Role) - {Role.CITIZEN}
    abroad = {r for r in Role if can_see_dormancy_policy(user(r), ABROAD)}
    assert abroad == {Role.ANALYST, Role.ADMIN}
    assert {r for r in Role if can_set_dormancy_policy(user(r))} == {Role.OFFICIAL, Role.ADMIN}


def test_mediation_is_run_by_ministry_staff_and_the_chair_and_cases_decided_by_mediators_too():
    chair, mediator, official = (
        user(Role.CITIZEN, user_id="chair"),
        user(Role.CITIZEN, user_id="mediator"),
        user(Role.OFFICIAL, user_id="official"),
    )
    dispute = SimpleNamespace(mediator_user_ids={"mediator"})
    chairs = {"chair"}
    assert can_run_mediation(user(Role.ANALYST, None), chair_user_ids=chairs)
    assert can_run_mediation(chair, chair_user_ids=chairs)
    assert not can_run_mediation(mediator, chair_user_ids=chairs)
    assert can_decide_dispute(mediator, dispute, chair_user_ids=chairs)
    assert can_decide_dispute(chair, dispute, chair_user_ids=chairs)
    assert not can_decide_dispute(official, dispute, chair_user_ids=chairs)
