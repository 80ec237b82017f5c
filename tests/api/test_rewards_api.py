"""Rewards over HTTP: rules, budgets, the citizen's ledger and balance, officials' entries."""

from __future__ import annotations

import pytest

from backend.extensions import db
from backend.permissions import Role


@pytest.fixture
def official(as_role):
    return as_role(Role.OFFICIAL)


@pytest.fixture
def citizen(as_role):
    return as_role(Role.CITIZEN)


def test_rules_are_set_by_officials_and_read_by_citizens(client, official, citizen):
    _user, headers = official
    body = {
        "name": "계획 단계 참여",
        "incentive": "points",
        "stage": "plan",
        "amount": 200,
        "amount_per_hour": 40,
        "cap_amount": 5000,
        "cap_period": "month",
    }
    created = client.post("/api/v1/reward-rules", headers=headers, json=body)
    assert created.status_code == 201, created.json
    rule = created.json
    assert rule["activity_kind"] is None and rule["is_active"] is True
    twin = client.post("/api/v1/reward-rules", headers=headers, json=body)
    assert (twin.status_code, twin.json["error"]["code"]) == (409, "reward_rule_conflict")

    listed = client.get("/api/v1/reward-rules", headers=citizen[1])
    assert [item["id"] for item in listed.json["items"]] == [rule["id"]]
    refused = client.post("/api/v1/reward-rules", headers=citizen[1], json=body)
    assert refused.status_code == 403

    patched = client.patch(
        f"/api/v1/reward-rules/{rule['id']}",
        headers=headers,
        json={"cap_amount": None, "cap_period": None, "is_active": False},
    )
    assert patched.status_code == 200, patched.json
    assert (patched.json["cap_amount"], patched.json["is_active"]) == (None, False)
    half_cap = client.patch(
        f"/api/v1/reward-rules/{rule['id']}", headers=headers, json={"cap_amount": 10}
    )
    assert half_cap.status_code == 422


@pytest.mark.parametrize(
    "change",
    [
        {"incentive": "commendation"},
        {"stage": "lunch"},
        {"amount": 0, "amount_per_hour": 0},
        {"cap_amount": 100},
        {"amount": -1},
        {"amount": 1.5},
    ],
)
def test_rule_input_is_validated(client, official, change):
    body = {"name": "x", "incentive": "points", "amount": 1, **change}
    response = client.post("/api/v1/reward-rules", headers=official[1], json=body)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"


def test_other_municipalities_rules_and_budgets_are_not_found(
    client, create_municipality, as_role, create_rule, create_budget
):
    rule, budget = create_rule(), create_budget()
    elsewhere = create_municipality(code="41110", name="수원시")
    _user, headers = as_role(Role.OFFICIAL, municipality=elsewhere)
    response = client.get(f"/api/v1/reward-rules/{rule.id}", headers=headers)
    assert (response.status_code, response.json["error"]["code"]) == (404, "reward_rule_not_found")
    assert client.get(f"/api/v1/budgets/{budget.id}", headers=headers).status_code == 404
    assert client.get("/api/v1/budgets", headers=headers).json["items"] == []
    assert client.get("/api/v1/budgets", headers=as_role(Role.ANALYST)[1]).json["items"]


def test_budgets_do_not_overlap_and_cannot_shrink_below_spending(client, clock, official, citizen):
    _user, headers = official
    body = {
        "incentive": "voucher",
        "name": "2026 상품권",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "total_amount": 30000,
    }
    created = client.post("/api/v1/budgets", headers=headers, json=body)
    assert created.status_code == 201, created.json
    overlap = client.post(
        "/api/v1/budgets", headers=headers, json={**body, "period_start": "2026-06-01"}
    )
    assert (overlap.status_code, overlap.json["error"]["code"]) == (409, "budget_overlap")
    points = client.post("/api/v1/budgets", headers=headers, json={**body, "incentive": "points"})
    assert points.status_code == 422

    grant = client.post(
        "/api/v1/rewards/grants",
        headers=headers,
        json={"user_id": citizen[0].id, "incentive": "voucher", "amount": 20000, "reason": "x"},
    )
    assert grant.status_code == 201, grant.json
    spent = client.post(
        "/api/v1/rewards/grants",
        headers=headers,
        json={"user_id": citizen[0].id, "incentive": "voucher", "amount": 20000, "reason": "x"},
    )
    assert (spent.status_code, spent.json["error"]["code"]) == (409, "budget_exhausted")
    shrink = client.patch(
        f"/api/v1/budgets/{created.json['id']}", headers=headers, json={"total_amount": 10000}
    )
    assert (shrink.status_code, shrink.json["error"]["code"]) == (409, "budget_below_spent")
    budget = client.get(f"/api/v1/budgets/{created.json['id']}", headers=headers).json
    assert (budget["remaining_amount"], budget["spent_amount"]) == (10000, 20000)


def test_a_citizen_sees_their_ledger_and_balance(
    client, clock, official, citizen, create_rule, participations
):
    create_rule(amount=300)
    participation = participations.confirm(citizen[0], actor=official[0])
    db.session.commit()
    _user, headers = official
    commendation = client.post(
        "/api/v1/rewards/grants",
        headers=headers,
        json={"user_id": citizen[0].id, "incentive": "commendation", "reason": "구청장 표창"},
    )
    assert commendation.status_code == 201, commendation.json
    assert commendation.json["amount"] == 1
    redemption = client.post(
        "/api/v1/rewards/redemptions",
        headers=headers,
        json={"user_id": citizen[0].id, "incentive": "points", "amount": 100, "reason": "상점"},
    )
    assert redemption.status_code == 201 and redemption.json["amount"] == -100
    too_much = client.post(
        "/api/v1/rewards/redemptions",
        headers=headers,
        json={"user_id": citizen[0].id, "incentive": "points", "amount": 1000, "reason": "x"},
    )
    assert (too_much.status_code, too_much.json["error"]["code"]) == (409, "insufficient_balance")

    mine = client.get("/api/v1/me/rewards", headers=citizen[1])
    assert mine.status_code == 200
    balances = {b["incentive"]: b["amount"] for b in mine.json["balances"]}
    assert balances == {"points": 200, "voucher": 0, "cash": 0, "in_kind": 0, "commendation": 1}
    kinds = [(e["kind"], e["source"], e["amount"]) for e in mine.json["items"]]
    assert kinds == [
        ("redemption", "official", -100),
        ("grant", "official", 1),
        ("grant", "participation", 300),
    ]
    assert mine.json["items"][2]["participation_id"] == participation
    assert mine.json["items"][0]["recorded_by"]["id"] == official[0].id
    assert "user" not in mine.json["items"][0]
    only_points = client.get("/api/v1/me/rewards?incentive=points&limit=1", headers=citizen[1])
    assert len(only_points.json["items"]) == 1 and only_points.json["next_cursor"]

    staff_view = client.get(f"/api/v1/users/{citizen[0].id}/rewards", headers=headers)
    assert staff_view.status_code == 200
    assert staff_view.json["user"]["id"] == citizen[0].id
    assert staff_view.json["items"][0]["user"]["id"] == citizen[0].id
    entries = client.get("/api/v1/rewards/entries?kind=grant", headers=headers)
    assert len(entries.json["items"]) == 2


def test_officials_record_only_for_their_municipalitys_citizens(
    client, official, create_municipality, create_user, as_role
):
    elsewhere = create_user(Role.CITIZEN, municipality=create_municipality(code="41110"))
    response = client.post(
        "/api/v1/rewards/grants",
        headers=official[1],
        json={"user_id": elsewhere.id, "incentive": "commendation", "reason": "x"},
    )
    assert (response.status_code, response.json["error"]["code"]) == (404, "user_not_found")
    colleague = as_role(Role.OFFICIAL)[0]
    response = client.post(
        "/api/v1/rewards/grants",
        headers=official[1],
        json={"user_id": colleague.id, "incentive": "commendation", "reason": "x"},
    )
    assert (response.status_code, response.json["error"]["code"]) == (422, "not_a_citizen")


def test_corrections_over_http(client, clock, official, citizen):
    _user, headers = official
    client.post(
        "/api/v1/rewards/grants",
        headers=headers,
        json={"user_id": citizen[0].id, "incentive": "points", "amount": 500, "reason": "x"},
    )
    expiry = client.post(
        "/api/v1/rewards/corrections",
        headers=headers,
        json={
            "user_id": citizen[0].id,
            "incentive": "points",
            "kind": "expiry",
            "amount": -500,
            "reason": "2026년 포인트 소멸",
        },
    )
    assert expiry.status_code == 201 and expiry.json["kind"] == "expiry"
    positive_expiry = client.post(
        "/api/v1/rewards/corrections",
        headers=headers,
        json={
            "user_id": citizen[0].id,
            "incentive": "points",
            "kind": "expiry",
            "amount": 5,
            "reason": "x",
        },
    )
    assert positive_expiry.status_code == 422
