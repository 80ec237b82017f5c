"""Rewards: the ledger. Balances are sums of entries; officials record grants, redemptions,
expiries and corrections, each a new entry with its reason."""

from __future__ import annotations

import sqlalchemy as sa

from backend import events
from backend.audit.services import save_and_audit
from backend.database import read_for_update
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.identity.services import get_user_for
from backend.ids import new_id
from backend.pagination import Page, paginate, where_given
from backend.permissions import Role, ensure_same_municipality, scope_to_municipality
from backend.rewards.budgets import _draw_or_refuse, _refund
from backend.rewards.models import (
    MONETARY_INCENTIVES,
    REDEEMABLE_INCENTIVES,
    EntryKind,
    Incentive,
    RewardLedgerEntry,
)

#: The order balances are shown in.
INCENTIVE_ORDER = tuple(Incentive)


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
    """Serialise balance checks of one citizen: before the balance is read, the citizen's row
    is locked (PostgreSQL) or the writer's turn taken (SQLite, where FOR UPDATE does nothing)."""
    db.session.execute(read_for_update(sa.select(User.id).where(User.id == user_id)))


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
