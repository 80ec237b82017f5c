"""The reward ledger: rules, caps, budgets, grants, redemptions and corrections (no HTTP)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from backend import events
from backend.audit.models import AuditEntry
from backend.errors import RuleViolation, ValidationFailed
from backend.extensions import db
from backend.ids import new_id
from backend.permissions import Role
from backend.rewards import services
from backend.rewards.models import (
    CapPeriod,
    EntryKind,
    Incentive,
    RewardBudget,
    RewardLedgerEntry,
)


@pytest.fixture
def citizen(create_user):
    return create_user(Role.CITIZEN, display_name="홍길동")


@pytest.fixture
def official(create_user):
    return create_user(Role.OFFICIAL)


def entries_of(user) -> list[RewardLedgerEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(RewardLedgerEntry)
            .where(RewardLedgerEntry.user_id == user.id)
            .order_by(RewardLedgerEntry.id)
        )
    )


def skipped_reasons() -> list[str]:
    return [
        entry.details["reason"]
        for entry in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "reward.skipped")
        )
    ]


def test_the_most_specific_rule_wins_and_planning_weighs_more(
    clock, citizen, create_rule, participations
):
    create_rule(name="참여", amount=100, amount_per_hour=20)
    create_rule(name="계획 단계", stage="plan", amount=200, amount_per_hour=40)
    create_rule(name="평가 워크숍", stage="evaluate", activity_kind="workshop", amount=500)
    create_rule(name="워크숍", activity_kind="workshop", amount=300)

    participations.confirm(citizen, stage="plan", activity_kind="survey", hours=2)
    participations.confirm(citizen, stage="implement", activity_kind="field_work", hours=2.5)
    participations.confirm(citizen, stage="evaluate", activity_kind="workshop", hours=1)
    participations.confirm(citizen, stage="decide", activity_kind="workshop", hours=1)
    db.session.commit()

    assert [(e.reason, e.amount) for e in entries_of(citizen)] == [
        ("계획 단계", 280),
        ("참여", 150),
        ("평가 워크숍", 500),
        ("워크숍", 300),
    ]
    assert services.balances(user_id=citizen.id)[Incentive.POINTS] == 1230


def test_a_participation_earns_each_incentive_once_however_often_it_is_confirmed(
    clock, citizen, create_rule, create_budget, participations, published
):
    create_rule(amount=100)
    create_rule(name="상품권", incentive=Incentive.VOUCHER, amount=5000)
    budget = create_budget(total_amount=50_000)
    participation = participations.confirm(citizen)
    db.session.commit()
    for _retry in range(3):
        participations.confirm(citizen, participation_id=participation)
        db.session.commit()

    entries = entries_of(citizen)
    assert sorted((e.incentive, e.amount) for e in entries) == [
        (Incentive.POINTS, 100),
        (Incentive.VOUCHER, 5000),
    ]
    assert all(e.participation_id == participation and e.source == "participation" for e in entries)
    assert db.session.get(RewardBudget, budget.id).remaining_amount == 45_000
    granted = [payload for name, payload in published if name == events.REWARD_GRANTED]
    assert len(granted) == 2
    assert set(granted[0]) == {
        "entry_id",
        "user_id",
        "municipality_id",
        "incentive",
        "amount",
        "reason",
    }


def test_the_database_itself_refuses_a_second_grant_for_a_participation(citizen):
    participation = new_id()

    def grant() -> RewardLedgerEntry:
        return RewardLedgerEntry(
            municipality_id=citizen.municipality_id,
            user_id=citizen.id,
            incentive=Incentive.POINTS,
            kind=EntryKind.GRANT,
            amount=10,
            reason="x",
            participation_id=participation,
        )

    db.session.add(grant())
    db.session.commit()
    db.session.add(grant())
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_monthly_cap_grants_the_rest_then_nothing_until_next_month(
    clock, citizen, create_rule, participations
):
    create_rule(amount=100, cap_amount=250, cap_period=CapPeriod.MONTH)
    for _ in range(4):
        participations.confirm(citizen)
    db.session.commit()
    assert [e.amount for e in entries_of(citizen)] == [100, 100, 50]
    assert skipped_reasons() == ["cap_reached"]

    clock.advance(days=31)
    participations.confirm(citizen)
    db.session.commit()
    assert [e.amount for e in entries_of(citizen)][-1] == 100


def test_a_monetary_rule_draws_on_the_budget_and_stops_when_it_is_spent(
    clock, citizen, create_rule, create_budget, participations
):
    create_rule(name="현장 상품권", incentive=Incentive.VOUCHER, amount=10_000)
    budget = create_budget(total_amount=25_000)
    for _ in range(3):
        participations.confirm(citizen, activity_kind="field_work")
    db.session.commit()
    assert [e.amount for e in entries_of(citizen)] == [10_000, 10_000]
    assert all(e.budget_id == budget.id for e in entries_of(citizen))
    assert db.session.get(RewardBudget, budget.id).remaining_amount == 5_000
    assert skipped_reasons() == ["budget_exhausted"]


def test_without_a_budget_a_monetary_rule_grants_nothing(
    clock, citizen, create_rule, participations
):
    create_rule(incentive=Incentive.CASH, amount=10_000)
    participations.confirm(citizen)
    db.session.commit()
    assert entries_of(citizen) == []
    assert skipped_reasons() == ["no_budget"]


def test_an_official_records_a_commendation(clock, citizen, official, published):
    entry = services.grant_reward(
        actor=official,
        user=citizen,
        incentive=Incentive.COMMENDATION,
        reason="구청장 표창",
        amount=5,
    )
    db.session.commit()
    assert (entry.amount, entry.kind, entry.source) == (1, EntryKind.GRANT, "official")
    assert entry.actor_id == official.id
    assert services.balances(user_id=citizen.id)[Incentive.COMMENDATION] == 1
    assert published[-1][0] == events.REWARD_GRANTED
    assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.target_id == entry.id))


def test_official_monetary_grants_stop_with_a_clear_error(clock, citizen, official, create_budget):
    with pytest.raises(RuleViolation) as no_budget:
        services.grant_reward(
            actor=official, user=citizen, incentive=Incentive.CASH, amount=1, reason="x"
        )
    assert no_budget.value.code == "no_budget"
    create_budget(incentive=Incentive.CASH, total_amount=30_000)
    services.grant_reward(
        actor=official, user=citizen, incentive=Incentive.CASH, amount=20_000, reason="x"
    )
    with pytest.raises(RuleViolation) as spent:
        services.grant_reward(
            actor=official, user=citizen, incentive=Incentive.CASH, amount=20_000, reason="x"
        )
    assert spent.value.code == "budget_exhausted"


def test_redemptions_spend_the_derived_balance(
    clock, citizen, official, create_rule, participations
):
    create_rule(amount=300)
    participations.confirm(citizen)
    db.session.commit()
    with pytest.raises(RuleViolation) as too_much:
        services.record_redemption(
            actor=official, user=citizen, incentive=Incentive.POINTS, amount=301, reason="x"
        )
    assert too_much.value.code == "insufficient_balance"
    entry = services.record_redemption(
        actor=official, user=citizen, incentive=Incentive.POINTS, amount=120, reason="상점 사용"
    )
    assert (entry.kind, entry.amount) == (EntryKind.REDEMPTION, -120)
    assert services.balances(user_id=citizen.id)[Incentive.POINTS] == 180
    with pytest.raises(ValidationFailed) as cash:
        services.record_redemption(
            actor=official, user=citizen, incentive=Incentive.CASH, amount=1, reason="x"
        )
    assert cash.value.code == "not_redeemable"


def test_corrections_and_expiries_are_new_entries_and_refund_the_budget(
    clock, citizen, official, create_budget
):
    budget = create_budget(total_amount=50_000)
    grant = services.grant_reward(
        actor=official, user=citizen, incentive=Incentive.VOUCHER, amount=20_000, reason="x"
    )
    correction = services.record_correction(
        actor=official,
        user=citizen,
        incentive=Incentive.VOUCHER,
        amount=-5_000,
        reason="금액 오류",
        corrects_entry_id=grant.id,
    )
    assert correction.budget_id == budget.id
    assert db.session.get(RewardBudget, budget.id).remaining_amount == 35_000
    with pytest.raises(RuleViolation) as too_much:
        services.record_correction(
            actor=official,
            user=citizen,
            incentive=Incentive.VOUCHER,
            amount=-15_001,
            reason="x",
            corrects_entry_id=grant.id,
        )
    assert too_much.value.code in ("correction_exceeds_entry", "insufficient_balance")
    expiry = services.record_correction(
        actor=official,
        user=citizen,
        incentive=Incentive.VOUCHER,
        amount=-15_000,
        reason="유효기간 만료",
        kind=EntryKind.EXPIRY,
    )
    assert expiry.kind == EntryKind.EXPIRY
    assert services.balances(user_id=citizen.id)[Incentive.VOUCHER] == 0
    with pytest.raises(ValidationFailed):
        services.record_correction(
            actor=official,
            user=citizen,
            incentive=Incentive.POINTS,
            amount=10,
            reason="x",
            kind=EntryKind.EXPIRY,
        )


def test_the_ledger_is_append_only(clock, citizen, official):
    entry = services.grant_reward(
        actor=official, user=citizen, incentive=Incentive.POINTS, amount=10, reason="x"
    )
    db.session.commit()
    entry.amount = 1_000_000
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(RewardLedgerEntry, entry.id))
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_a_budget_cannot_shrink_below_what_was_granted(clock, citizen, official, create_budget):
    budget = create_budget(total_amount=10_000)
    services.grant_reward(
        actor=official, user=citizen, incentive=Incentive.VOUCHER, amount=6_000, reason="x"
    )
    with pytest.raises(RuleViolation) as below:
        services.update_budget(actor=official, budget=budget, total_amount=5_000)
    assert below.value.code == "budget_below_spent"
    services.update_budget(actor=official, budget=budget, total_amount=8_000)
    assert (budget.total_amount, budget.remaining_amount, budget.spent_amount) == (
        8_000,
        2_000,
        6_000,
    )


def test_twin_active_rules_are_refused(official):
    services.create_rule(actor=official, name="a", incentive=Incentive.POINTS, amount=1)
    with pytest.raises(Exception) as twin:
        services.create_rule(actor=official, name="b", incentive=Incentive.POINTS, amount=2)
    assert twin.value.code == "reward_rule_conflict"
    services.create_rule(
        actor=official, name="c", incentive=Incentive.POINTS, stage="plan", amount=2
    )
