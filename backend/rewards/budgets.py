"""Rewards: budgets of the monetary incentives. A budget is drawn on only by a conditional
UPDATE, so two grants at once cannot overspend it."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from backend.audit.services import save_and_audit
from backend.clock import seoul_today
from backend.errors import Conflict, NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.ids import new_id
from backend.pagination import Page, paginate, where_given
from backend.permissions import ensure_same_municipality, scope_to_municipality
from backend.rewards.models import (
    MONETARY_INCENTIVES,
    Incentive,
    RewardBudget,
)


def list_budgets(
    *,
    viewer: User,
    limit: int,
    cursor: str | None,
    incentive: Incentive | None = None,
    active_on: date | None = None,
) -> Page:
    """Budgets the viewer may see, newest first."""
    query = scope_to_municipality(sa.select(RewardBudget), RewardBudget, viewer)
    query = where_given(query, {RewardBudget.incentive: incentive})
    if active_on is not None:
        query = query.where(
            RewardBudget.period_start <= active_on, RewardBudget.period_end >= active_on
        )
    return paginate(query, RewardBudget.id, limit=limit, cursor=cursor)


def get_budget(*, viewer: User, budget_id: str) -> RewardBudget:
    """One budget, if the viewer may see it."""
    budget = db.session.get(RewardBudget, budget_id)
    if budget is None:
        raise NotFound("Budget not found.", code="budget_not_found")
    try:
        return ensure_same_municipality(viewer, budget)
    except NotFound:
        raise NotFound("Budget not found.", code="budget_not_found") from None


def create_budget(
    *,
    actor: User,
    incentive: Incentive,
    name: str,
    period_start: date,
    period_end: date,
    total_amount: int,
) -> RewardBudget:
    """An official sets a budget for a monetary incentive over a period (no overlaps)."""
    if incentive not in MONETARY_INCENTIVES:
        raise ValidationFailed(
            "Only monetary incentives have budgets.",
            code="incentive_not_monetary",
            fields={"incentive": ["Must be voucher, cash or in_kind."]},
        )
    if period_end < period_start:
        raise ValidationFailed(
            "The period ends before it starts.", fields={"period_end": ["Before period_start."]}
        )
    overlapping = db.session.scalar(
        sa.select(RewardBudget.id).where(
            RewardBudget.municipality_id == actor.municipality_id,
            RewardBudget.incentive == incentive,
            RewardBudget.period_start <= period_end,
            RewardBudget.period_end >= period_start,
        )
    )
    if overlapping is not None:
        raise Conflict(
            "Another budget for this incentive covers part of the period.",
            code="budget_overlap",
            details={"budget_id": overlapping},
        )
    budget = RewardBudget(
        id=new_id(),
        municipality_id=actor.municipality_id,
        incentive=incentive,
        name=name.strip(),
        period_start=period_start,
        period_end=period_end,
        total_amount=total_amount,
        remaining_amount=total_amount,
        created_by_id=actor.id,
    )
    save_and_audit(
        budget,
        actor=actor,
        action="budget.create",
        target_type="reward_budget",
        details={"incentive": incentive.value, "total_amount": total_amount},
    )
    return budget


def update_budget(
    *, actor: User, budget: RewardBudget, name: str | None = None, total_amount: int | None = None
) -> RewardBudget:
    """Rename a budget or change its total; the remaining amount moves by the same delta."""
    ensure_same_municipality(actor, budget)
    details: dict[str, Any] = {}
    if name is not None and name.strip() != budget.name:
        budget.name = name.strip()
        details["name"] = budget.name
    if total_amount is not None and total_amount != budget.total_amount:
        delta = total_amount - budget.total_amount
        # Conditional, like a grant: a concurrent grant cannot slip between the check and the set.
        result = db.session.execute(
            sa.update(RewardBudget.__table__)
            .where(
                RewardBudget.__table__.c.id == budget.id,
                RewardBudget.__table__.c.remaining_amount + delta >= 0,
            )
            .values(
                total_amount=total_amount,
                remaining_amount=RewardBudget.__table__.c.remaining_amount + delta,
            )
        )
        if result.rowcount != 1:
            raise RuleViolation(
                "The new total is less than what was already granted.",
                code="budget_below_spent",
                fields={"total_amount": ["Less than the amount already granted."]},
            )
        db.session.expire(budget, ["total_amount", "remaining_amount"])
        details["total_amount"] = total_amount
    if details:
        save_and_audit(
            budget,
            actor=actor,
            action="budget.update",
            target_type="reward_budget",
            details=details,
        )
    return budget


def budget_for(*, municipality_id: str, incentive: Incentive, on: date) -> RewardBudget | None:
    """The budget a grant of this incentive on this (Seoul) date draws on, if any."""
    return db.session.scalar(
        sa.select(RewardBudget)
        .where(
            RewardBudget.municipality_id == municipality_id,
            RewardBudget.incentive == incentive,
            RewardBudget.period_start <= on,
            RewardBudget.period_end >= on,
        )
        .order_by(RewardBudget.period_start.desc())
        .limit(1)
    )


def _draw(budget: RewardBudget, amount: int) -> bool:
    """Take `amount` from a budget if that much remains (one conditional UPDATE)."""
    table = RewardBudget.__table__
    result = db.session.execute(
        sa.update(table)
        .where(table.c.id == budget.id, table.c.remaining_amount >= amount)
        .values(remaining_amount=table.c.remaining_amount - amount)
    )
    db.session.expire(budget, ["remaining_amount"])
    return result.rowcount == 1


def _refund(budget_id: str, amount: int) -> None:
    table = RewardBudget.__table__
    db.session.execute(
        sa.update(table)
        .where(table.c.id == budget_id)
        .values(remaining_amount=table.c.remaining_amount + amount)
    )
    budget = db.session.get(RewardBudget, budget_id)
    if budget is not None:
        db.session.expire(budget, ["remaining_amount"])


def _draw_or_refuse(*, municipality_id: str, incentive: Incentive, amount: int) -> RewardBudget:
    budget = budget_for(municipality_id=municipality_id, incentive=incentive, on=seoul_today())
    if budget is None:
        raise RuleViolation(
            "No budget is set for this incentive today.",
            code="no_budget",
            fields={"incentive": ["No budget covers today."]},
        )
    if not _draw(budget, amount):
        raise RuleViolation(
            "The budget for this incentive is spent.",
            code="budget_exhausted",
            details={"budget_id": budget.id},
        )
    return budget
