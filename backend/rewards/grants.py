"""Rewards: automatic grants. A confirmed participation earns rewards through
`grant_for_participation`, subscribed to PARTICIPATION_CONFIRMED and so run inside the
confirming transaction. A participation earns an incentive at most once (unique
(participation_id, incentive), inserted with ON CONFLICT DO NOTHING)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from backend.audit.services import record_audit
from backend.clock import SEOUL, as_utc, seoul_date, seoul_day_start, utcnow
from backend.extensions import db
from backend.ids import new_id
from backend.rewards.budgets import _draw, _refund, budget_for
from backend.rewards.ledger import INCENTIVE_ORDER, _announce, _lock_account
from backend.rewards.models import (
    MONETARY_INCENTIVES,
    CapPeriod,
    EntryKind,
    Incentive,
    RewardLedgerEntry,
    RewardRule,
)
from backend.rewards.rules import matching_rules, reward_amount

log = logging.getLogger(__name__)


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
