"""Editing reward rules and budgets in the console: the API's update schemas and services."""

from __future__ import annotations

import sqlalchemy as sa

from backend.audit.models import AuditEntry
from backend.extensions import db
from backend.permissions import Role
from backend.rewards.models import CapPeriod


def test_an_official_edits_a_rule_then_clears_its_cap_and_switches_it_off(
    app, create_user, create_rule, console_login, form_token
):
    rule = create_rule(amount=100)
    client = console_login(create_user(Role.OFFICIAL))
    url = f"/console/rewards/rules/{rule.id}/edit"
    form = client.get(url).get_data(as_text=True)
    assert 'value="참여 포인트"' in form and 'name="is_active" value="1" checked' in form
    token = form_token(client, url)
    base = {"csrf_token": token, "name": "워크숍 포인트", "amount": "150", "amount_per_hour": "0"}
    answer = client.post(
        url, data={**base, "cap_amount": "1000", "cap_period": "month", "is_active": "1"}
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)[:1500]
    db.session.expire_all()
    assert (rule.name, rule.amount, rule.cap_amount, rule.cap_period, rule.is_active) == (
        "워크숍 포인트",
        150,
        1000,
        CapPeriod.MONTH,
        True,
    )
    # Blank cap fields mean "no cap", an unticked box "off".
    assert client.post(url, data={**base, "cap_amount": "", "cap_period": ""}).status_code == 303
    db.session.expire_all()
    assert (rule.cap_amount, rule.cap_period, rule.is_active) == (None, None, False)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "reward_rule.update")
        )
        == 2
    )


def test_a_rule_edit_the_service_refuses_shows_the_form_again(
    app, create_user, create_rule, console_login, form_token
):
    rule = create_rule(amount=100)
    client = console_login(create_user(Role.OFFICIAL))
    url = f"/console/rewards/rules/{rule.id}/edit"
    token = form_token(client, url)
    refused = client.post(
        url,
        data={
            "csrf_token": token,
            "name": "x",
            "amount": "0",
            "amount_per_hour": "0",
            "is_active": "1",
        },
    )
    assert refused.status_code == 422
    assert 'class="errors"' in refused.get_data(as_text=True)
    db.session.expire_all()
    assert rule.amount == 100 and rule.name == "참여 포인트"


def test_a_budget_total_changes_but_never_below_what_was_granted(
    app, create_user, create_budget, console_login, form_token
):
    budget = create_budget(total_amount=100_000)
    budget.remaining_amount = 40_000  # 60,000 already granted
    db.session.commit()
    client = console_login(create_user(Role.OFFICIAL))
    url = f"/console/rewards/budgets/{budget.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "60,000" in page and "40,000" in page
    token = form_token(client, url)
    refused = client.post(url, data={"csrf_token": token, "name": "예산", "total_amount": "50000"})
    assert refused.status_code == 422
    saved = client.post(
        url, data={"csrf_token": token, "name": "새 예산", "total_amount": "150000"}
    )
    assert saved.status_code == 303
    db.session.expire_all()
    assert (budget.name, budget.total_amount, budget.remaining_amount) == (
        "새 예산",
        150_000,
        90_000,
    )
    assert "data-left>90,000<" in client.get("/console/rewards").get_data(as_text=True)


def test_edit_forms_follow_the_api_roles_and_the_municipality(
    app, create_user, create_rule, create_budget, other_municipality, console_login
):
    rule, budget = create_rule(), create_budget()
    stranger = console_login(create_user(Role.OFFICIAL, municipality=other_municipality))
    assert stranger.get(f"/console/rewards/rules/{rule.id}/edit").status_code == 404
    assert stranger.get(f"/console/rewards/budgets/{budget.id}/edit").status_code == 404
    analyst = console_login(create_user(Role.ANALYST))
    assert analyst.get(f"/console/rewards/rules/{rule.id}/edit").status_code == 403
    assert "/edit" not in analyst.get("/console/rewards").get_data(as_text=True)
