"""Rewards: rules, budgets, and the ledger (grants, redemptions, expiries, corrections).

A confirmed participation earns rewards through `grant_for_participation`, subscribed to
PARTICIPATION_CONFIRMED and so run inside the confirming transaction. Every change is an
inserted ledger entry; balances are sums. Two database guards make double payment impossible:
a participation earns an incentive at most once (unique (participation_id, incentive), inserted
with ON CONFLICT DO NOTHING), and a budget is drawn on only by a conditional UPDATE.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from backend import events
from backend.audit.services import record_audit, save_and_audit
from backend.clock import SEOUL, as_utc, seoul_date, seoul_day_start, seoul_today, utcnow
from backend.errors import Conflict, NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.identity.services import get_user_for
from backend.ids import new_id
from backend.pagination import Page, paginate, where_given
from backend.permissions import Role, ensure_same_municipality, scope_to_municipality
from backend.rewards.models import (
    MONETARY_INCENTIVES,
    REDEEMABLE_INCENTIVES,
    CapPeriod,
    EntryKind,
    Incentive,
    RewardBudget,
    RewardLedgerEntry,
    RewardRule,
)

log = logging.getLogger(__name__)

#: The order balances are shown in.
INCENTIVE_ORDER = tuple(Incentive)


# ---- rules ----------------------------------------------------------------------------------


def list_rules(
    *, viewer: User, limit: int, cursor: str | None, is_active: bool | None = None
) -> Page:
    """Reward rules the viewer may see, newest first."""
    query = scope_to_municipality(sa.select(RewardRule), RewardRule, viewer)
    query = where_given(query, {RewardRule.is_active: is_active})
    return paginate(query, RewardRule.id, limit=limit, cursor=cursor)


def get_rule(*, viewer: User, rule_id: str) -> RewardRule:
    """One reward rule, if the viewer may see it."""
    rule = db.session.get(RewardRule, rule_id)
    if rule is None:
        raise NotFound("Reward rule not found.", code="reward_rule_not_found")
    try:
        return ensure_same_municipality(viewer, rule)
    except NotFound:
        raise NotFound("Reward rule not found.", code="reward_rule_not_found") from None


def _ensure_no_twin(rule: RewardRule) -> None:
    """Two active rules for the same incentive, stage and kind would make the choice arbitrary."""
    twin = db.session.scalar(
        sa.select(RewardRule.id).where(
            RewardRule.municipality_id == rule.municipality_id,
            RewardRule.incentive == rule.incentive,
            RewardRule.is_active.is_(True),
            RewardRule.id != rule.id,
            _same_or_null(RewardRule.stage, rule.stage),
            _same_or_null(RewardRule.activity_kind, rule.activity_kind),
        )
    )
    if twin is not None:
        raise Conflict(
            "An active rule for this incentive, stage and activity kind exists.",
            code="reward_rule_conflict",
            details={"rule_id": twin},
        )


def _same_or_null(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


def create_rule(
    *,
    actor: User,
    name: str,
    incentive: Incentive,
    stage: str | None = None,
    activity_kind: str | None = None,
    amount: int = 0,
    amount_per_hour: int = 0,
    cap_amount: int | None = None,
    cap_period: CapPeriod | None = None,
    is_active: bool = True,
) -> RewardRule:
    """An official adds a reward rule for their municipality."""
    rule = RewardRule(
        id=new_id(),
        municipality_id=actor.municipality_id,
        name=name.strip(),
        incentive=incentive,
        stage=stage,
        activity_kind=activity_kind,
        amount=amount,
        amount_per_hour=amount_per_hour,
        cap_amount=cap_amount,
        cap_period=cap_period,
        is_active=is_active,
        created_by_id=actor.id,
    )
    if is_active:
        _ensure_no_twin(rule)
    save_and_audit(
        rule,
        actor=actor,
        action="reward_rule.create",
        target_type="reward_rule",
        details={"incentive": incentive.value, "stage": stage, "activity_kind": activity_kind},
    )
    return rule


def update_rule(*, actor: User, rule: RewardRule, **changes: Any) -> RewardRule:
    """Change a rule's name, amounts, cap or activity; history already granted stays as is."""
    ensure_same_municipality(actor, rule)
    changed: dict[str, Any] = {}
    for name in ("name", "amount", "amount_per_hour", "cap_amount", "cap_period", "is_active"):
        if name in changes and getattr(rule, name) != changes[name]:
            setattr(rule, name, changes[name])
            value = changes[name]
            changed[name] = value.value if isinstance(value, CapPeriod) else value
    if (rule.cap_amount is None) != (rule.cap_period is None):
        raise ValidationFailed(
            "Give both a cap amount and a cap period, or neither.",
            fields={"cap_amount": ["Give both or neither."], "cap_period": ["Give both."]},
        )
    if rule.amount == 0 and rule.amount_per_hour == 0:
        raise ValidationFailed(
            "A rule must earn something.", fields={"amount": ["Give an amount or a per-hour one."]}
        )
    if changed:
        if rule.is_active:
            _ensure_no_twin(rule)
        rule.updated_at = utcnow()
        save_and_audit(
            rule,
            actor=actor,
            action="reward_rule.update",
            target_type="reward_rule",
            details=changed,
        )
    return rule


def matching_rules(
    *, municipality_id: str, stage: str, activity_kind: str
) -> dict[Incentive, RewardRule]:
    """For each incentive, the most specific active rule that matches a participation."""
    rules = db.session.scalars(
        sa.select(RewardRule).where(
            RewardRule.municipality_id == municipality_id,
            RewardRule.is_active.is_(True),
            sa.or_(RewardRule.stage.is_(None), RewardRule.stage == stage),
            sa.or_(RewardRule.activity_kind.is_(None), RewardRule.activity_kind == activity_kind),
        )
    )
    best: dict[Incentive, RewardRule] = {}
    for rule in rules:
        if rule.incentive not in best or _specificity(rule) > _specificity(best[rule.incentive]):
            best[rule.incentive] = rule
        elif (
            _specificity(rule) == _specificity(best[rule.incentive])
            and rule.id > best[rule.incentive].id
        ):
            best[rule.incentive] = rule  # a race let two twins in: the newer one wins
    return best


def _specificity(rule: RewardRule) -> int:
    return (2 if rule.stage else 0) + (1 if rule.activity_kind else 0)


def reward_amount(rule: RewardRule, hours: float) -> int:
    """What one participation of `hours` earns under a rule (per-hour part rounded down)."""
    hours_value = max(Decimal(str(hours or 0)), Decimal(0))
    return rule.amount + int(hours_value * rule.amount_per_hour)


# ---- budgets --------------------------------------------------------------------------------


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


# ---- the ledger -----------------------------------------------------------------------------


def balances(*, user_id: str) -> dict[Incentive, int]:
    """A citizen's balance of every incentive: the sum of its ledger entries."""
    rows = db.session.execute(
        sa.select(RewardLedgerEntry.incentive, sa.func.sum(RewardLedgerEntry.amount))
        .where(RewardLedgerEntry.user_id == user_id)
        .group_by(RewardLedgerEntry.incentive)
    )
    found = {Incentive(incentive): int(total or 0) for incentive, total in rows}
    return {incentive: found.get(incentive, 0) for incentive in INCENTIVE_ORDER}


def balance_of(*, user_id: str, incentive: Incentive) -> int:
    """A citizen's balance of one incentive."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(RewardLedgerEntry.amount), 0)).where(
            RewardLedgerEntry.user_id == user_id, RewardLedgerEntry.incentive == incentive
        )
    )
    return int(total or 0)


def list_entries(
    *,
    limit: int,
    cursor: str | None,
    viewer: User | None = None,
    user_id: str | None = None,
    kind: EntryKind | None = None,
    incentive: Incentive | None = None,
) -> Page:
    """Ledger entries, newest first: of one citizen, or all the viewer's municipality may see."""
    query = sa.select(RewardLedgerEntry)
    if viewer is not None:
        query = scope_to_municipality(query, RewardLedgerEntry, viewer)
    query = where_given(
        query,
        {
            RewardLedgerEntry.user_id: user_id,
            RewardLedgerEntry.kind: kind,
            RewardLedgerEntry.incentive: incentive,
        },
    )
    return paginate(query, RewardLedgerEntry.id, limit=limit, cursor=cursor)


def get_citizen_for(*, actor: User, user_id: str) -> User:
    """A citizen the acting official may record rewards for (their municipality only)."""
    user = get_user_for(viewer=actor, user_id=user_id)
    if user.role != Role.CITIZEN:
        raise ValidationFailed(
            "Rewards are for citizens.",
            code="not_a_citizen",
            fields={"user_id": ["Not a citizen."]},
        )
    return user


def _lock_account(user_id: str) -> None:
    """Serialise balance checks of one citizen (row lock on PostgreSQL; SQLite has one writer)."""
    db.session.execute(sa.select(User.id).where(User.id == user_id).with_for_update())


def _announce(entry: RewardLedgerEntry) -> None:
    events.publish(
        events.REWARD_GRANTED,
        entry_id=entry.id,
        user_id=entry.user_id,
        municipality_id=entry.municipality_id,
        incentive=entry.incentive.value,
        amount=entry.amount,
        reason=entry.reason,
    )


def _audit_entry(actor: User | None, entry: RewardLedgerEntry, action: str) -> None:
    save_and_audit(
        entry,
        actor=actor,
        action=action,
        target_type="reward_entry",
        details={
            "user_id": entry.user_id,
            "incentive": entry.incentive.value,
            "amount": entry.amount,
            "budget_id": entry.budget_id,
        },
    )


def grant_reward(
    *, actor: User, user: User, incentive: Incentive, reason: str, amount: int | None = None
) -> RewardLedgerEntry:
    """An official grants a reward: a commendation (표창), a bonus, or a monetary incentive."""
    ensure_same_municipality(actor, user)
    if incentive == Incentive.COMMENDATION:
        amount = 1  # a commendation is counted, not measured
    if amount is None or amount <= 0:
        raise ValidationFailed("Give a positive amount.", fields={"amount": ["Must be positive."]})
    budget = None
    if incentive in MONETARY_INCENTIVES:
        budget = _draw_or_refuse(
            municipality_id=user.municipality_id, incentive=incentive, amount=amount
        )
    entry = RewardLedgerEntry(
        id=new_id(),
        municipality_id=user.municipality_id,
        user_id=user.id,
        incentive=incentive,
        kind=EntryKind.GRANT,
        amount=amount,
        reason=reason.strip(),
        budget_id=budget.id if budget else None,
        actor_id=actor.id,
    )
    db.session.add(entry)
    db.session.flush()
    _audit_entry(actor, entry, "reward.grant")
    _announce(entry)
    return entry


def record_redemption(
    *, actor: User, user: User, incentive: Incentive, amount: int, reason: str
) -> RewardLedgerEntry:
    """An official records that a citizen spent points or a voucher."""
    ensure_same_municipality(actor, user)
    if incentive not in REDEEMABLE_INCENTIVES:
        raise ValidationFailed(
            "Only points and vouchers are redeemed.",
            code="not_redeemable",
            fields={"incentive": ["Must be points or voucher."]},
        )
    if amount <= 0:
        raise ValidationFailed("Give a positive amount.", fields={"amount": ["Must be positive."]})
    _lock_account(user.id)
    available = balance_of(user_id=user.id, incentive=incentive)
    if available < amount:
        raise RuleViolation(
            "The balance is too small.",
            code="insufficient_balance",
            fields={"amount": [f"The balance is {available}."]},
            details={"balance": available},
        )
    entry = RewardLedgerEntry(
        id=new_id(),
        municipality_id=user.municipality_id,
        user_id=user.id,
        incentive=incentive,
        kind=EntryKind.REDEMPTION,
        amount=-amount,
        reason=reason.strip(),
        actor_id=actor.id,
    )
    db.session.add(entry)
    db.session.flush()
    _audit_entry(actor, entry, "reward.redeem")
    return entry


def record_correction(
    *,
    actor: User,
    user: User,
    incentive: Incentive,
    amount: int,
    reason: str,
    kind: EntryKind = EntryKind.CORRECTION,
    corrects_entry_id: str | None = None,
) -> RewardLedgerEntry:
    """An official corrects a balance or records an expiry, as a new entry with its reason."""
    ensure_same_municipality(actor, user)
    if kind not in (EntryKind.CORRECTION, EntryKind.EXPIRY):
        raise ValidationFailed("Not a correction.", fields={"kind": ["correction or expiry."]})
    if amount == 0 or (kind == EntryKind.EXPIRY and amount > 0):
        raise ValidationFailed(
            "An expiry takes away; a correction is not zero.",
            fields={"amount": ["Negative for an expiry, never zero."]},
        )
    corrected = None
    if corrects_entry_id is not None:
        corrected = db.session.get(RewardLedgerEntry, corrects_entry_id)
        if corrected is None or corrected.user_id != user.id:
            raise NotFound("Ledger entry not found.", code="reward_entry_not_found")
        if corrected.incentive != incentive:
            raise ValidationFailed(
                "A correction is in the incentive of the entry it corrects.",
                fields={"incentive": [f"Must be {corrected.incentive.value}."]},
            )
    budget_id = None
    if amount < 0:
        _lock_account(user.id)
        available = balance_of(user_id=user.id, incentive=incentive)
        if available + amount < 0:
            raise RuleViolation(
                "The balance is too small.",
                code="insufficient_balance",
                fields={"amount": [f"The balance is {available}."]},
                details={"balance": available},
            )
        if corrected is not None and corrected.budget_id and incentive in MONETARY_INCENTIVES:
            _check_correctable(corrected, -amount)
            _refund(corrected.budget_id, -amount)
            budget_id = corrected.budget_id
    elif incentive in MONETARY_INCENTIVES:
        budget_id = _draw_or_refuse(
            municipality_id=user.municipality_id, incentive=incentive, amount=amount
        ).id
    entry = RewardLedgerEntry(
        id=new_id(),
        municipality_id=user.municipality_id,
        user_id=user.id,
        incentive=incentive,
        kind=kind,
        amount=amount,
        reason=reason.strip(),
        budget_id=budget_id,
        actor_id=actor.id,
        corrects_entry_id=corrects_entry_id,
    )
    db.session.add(entry)
    db.session.flush()
    _audit_entry(actor, entry, f"reward.{kind.value}")
    return entry


def _check_correctable(corrected: RewardLedgerEntry, taking: int) -> None:
    """Refunds against one grant cannot add up to more than the grant."""
    already = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(RewardLedgerEntry.amount), 0)).where(
            RewardLedgerEntry.corrects_entry_id == corrected.id, RewardLedgerEntry.amount < 0
        )
    )
    if corrected.amount + int(already or 0) - taking < 0:
        raise RuleViolation(
            "The corrections would take back more than the entry gave.",
            code="correction_exceeds_entry",
            fields={"amount": ["More than the corrected entry."]},
        )


# ---- automatic grants -----------------------------------------------------------------------


def _period_start(period: CapPeriod, moment: datetime) -> datetime:
    day = seoul_date(moment)
    first = day.replace(day=1) if period == CapPeriod.MONTH else day.replace(month=1, day=1)
    return seoul_day_start(first)


def _granted_from_participations(*, user_id: str, incentive: Incentive, since: datetime) -> int:
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(RewardLedgerEntry.amount), 0)).where(
            RewardLedgerEntry.user_id == user_id,
            RewardLedgerEntry.incentive == incentive,
            RewardLedgerEntry.kind == EntryKind.GRANT,
            RewardLedgerEntry.participation_id.is_not(None),
            RewardLedgerEntry.created_at >= since,
        )
    )
    return int(total or 0)


def _already_granted(participation_id: str, incentive: Incentive) -> bool:
    return (
        db.session.scalar(
            sa.select(RewardLedgerEntry.id).where(
                RewardLedgerEntry.participation_id == participation_id,
                RewardLedgerEntry.incentive == incentive,
            )
        )
        is not None
    )


def _insert_once(values: dict[str, Any]) -> str | None:
    """INSERT the grant unless the participation already earned this incentive; its id or None."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = RewardLedgerEntry.__table__
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[table.c.participation_id, table.c.incentive])
        .returning(table.c.id)
    )
    return db.session.execute(statement).scalar()


def _skip(
    *, reason: str, participation_id: str, municipality_id: str, user_id: str, rule: RewardRule
) -> None:
    log.info("reward for participation %s skipped: %s", participation_id, reason)
    record_audit(
        actor=None,
        action="reward.skipped",
        target_type="participation",
        target_id=participation_id,
        municipality_id=municipality_id,
        details={"reason": reason, "user_id": user_id, "rule_id": rule.id},
    )


def grant_for_participation(
    *,
    participation_id: str,
    user_id: str,
    municipality_id: str,
    stage: str,
    activity_kind: str,
    hours: float,
    confirmed_at: datetime,
    actor_id: str | None = None,
    **_event: Any,
) -> list[RewardLedgerEntry]:
    """Grant what the rules give for a confirmed participation, once per incentive, ever."""
    # Subscribed to PARTICIPATION_CONFIRMED: runs inside the confirming transaction. A spent
    # budget or a reached cap does not undo the confirmation; it is written to the audit log.
    rules = matching_rules(
        municipality_id=municipality_id, stage=stage, activity_kind=activity_kind
    )
    if not rules:
        return []
    if any(rule.cap_amount is not None for rule in rules.values()):
        _lock_account(user_id)
    granted = []
    for incentive in INCENTIVE_ORDER:
        rule = rules.get(incentive)
        if rule is None or _already_granted(participation_id, incentive):
            continue
        amount = reward_amount(rule, hours)
        if rule.cap_amount is not None and rule.cap_period is not None:
            used = _granted_from_participations(
                user_id=user_id,
                incentive=incentive,
                since=_period_start(rule.cap_period, confirmed_at),
            )
            amount = min(amount, rule.cap_amount - used)
            if amount <= 0:
                _skip(
                    reason="cap_reached",
                    participation_id=participation_id,
                    municipality_id=municipality_id,
                    user_id=user_id,
                    rule=rule,
                )
                continue
        if amount <= 0:
            continue
        budget = None
        if incentive in MONETARY_INCENTIVES:
            day = as_utc(confirmed_at).astimezone(SEOUL).date()
            budget = budget_for(municipality_id=municipality_id, incentive=incentive, on=day)
            if budget is None or not _draw(budget, amount):
                _skip(
                    reason="no_budget" if budget is None else "budget_exhausted",
                    participation_id=participation_id,
                    municipality_id=municipality_id,
                    user_id=user_id,
                    rule=rule,
                )
                continue
        entry_id = _insert_once(
            {
                "id": new_id(),
                "municipality_id": municipality_id,
                "user_id": user_id,
                "incentive": incentive,
                "kind": EntryKind.GRANT,
                "amount": amount,
                "reason": rule.name,
                "participation_id": participation_id,
                "rule_id": rule.id,
                "budget_id": budget.id if budget else None,
                "actor_id": actor_id,
                "created_at": utcnow(),
            }
        )
        if entry_id is None:
            # Another transaction granted it between our check and our insert.
            if budget is not None:
                _refund(budget.id, amount)
            continue
        entry = db.session.get(RewardLedgerEntry, entry_id)
        _announce(entry)
        granted.append(entry)
    return granted
