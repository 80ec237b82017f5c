"""Reward rules, budgets for monetary incentives, and the append-only reward ledger."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.dbtypes import UTCDateTime, created_at_column, enum_type, id_column
from backend.extensions import db
from backend.identity.models import User


class Incentive(enum.StrEnum):
    """What a reward is paid in."""

    POINTS = "points"
    VOUCHER = "voucher"
    CASH = "cash"
    IN_KIND = "in_kind"
    COMMENDATION = "commendation"


#: Incentives that cost the municipality money: each grant draws on a budget.
MONETARY_INCENTIVES = frozenset({Incentive.VOUCHER, Incentive.CASH, Incentive.IN_KIND})
#: Incentives a confirmed participation can earn through a rule (a commendation is an act).
RULE_INCENTIVES = frozenset(
    {Incentive.POINTS, Incentive.VOUCHER, Incentive.CASH, Incentive.IN_KIND}
)
#: Incentives a citizen holds as a balance and spends later; cash and goods are handed over.
REDEEMABLE_INCENTIVES = frozenset({Incentive.POINTS, Incentive.VOUCHER})


class EntryKind(enum.StrEnum):
    """Why a ledger entry exists."""

    GRANT = "grant"
    REDEMPTION = "redemption"
    EXPIRY = "expiry"
    CORRECTION = "correction"


class CapPeriod(enum.StrEnum):
    """The calendar period (Asia/Seoul) a rule's cap counts over."""

    MONTH = "month"
    YEAR = "year"


class RewardRule(db.Model):
    """What a confirmed participation earns in one municipality.

    For each incentive the most specific active rule that matches the participation applies
    (stage and activity kind > stage > activity kind > any), so "planning weighs more" is a
    rule for the plan stage with larger amounts next to a general one.
    """

    __tablename__ = "reward_rules"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0 AND amount_per_hour >= 0", name="amounts_not_negative"),
        sa.CheckConstraint(
            "(cap_amount IS NULL) = (cap_period IS NULL)", name="cap_amount_and_period"
        ),
        sa.Index("ix_reward_rules_municipality", "municipality_id", "id"),
    )

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("municipalities.id"), nullable=False
    )
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    incentive: Mapped[Incentive] = mapped_column(enum_type(Incentive, "reward_incentive"))
    #: NULL matches every stage.
    stage: Mapped[str | None] = mapped_column(sa.String(16))
    #: NULL matches every activity kind.
    activity_kind: Mapped[str | None] = mapped_column(sa.String(32))
    #: Earned per confirmed participation (points, or won for monetary incentives).
    amount: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Earned per hour of the participation, on top of `amount` (rounded down).
    amount_per_hour: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: At most this much of the incentive per citizen per period from participations.
    cap_amount: Mapped[int | None] = mapped_column(sa.Integer)
    cap_period: Mapped[CapPeriod | None] = mapped_column(enum_type(CapPeriod, "reward_cap_period"))
    is_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    created_by_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RewardBudget(db.Model):
    """Money an official sets aside for one monetary incentive over a period.

    `remaining_amount` only ever changes through a conditional UPDATE (remaining >= amount), and
    a CHECK keeps it from going below zero, so concurrent grants cannot overspend.
    """

    __tablename__ = "reward_budgets"
    __table_args__ = (
        sa.CheckConstraint("remaining_amount >= 0", name="remaining_not_negative"),
        sa.CheckConstraint("remaining_amount <= total_amount", name="remaining_within_total"),
        sa.CheckConstraint("period_end >= period_start", name="period_in_order"),
        sa.UniqueConstraint("municipality_id", "incentive", "period_start"),
    )

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("municipalities.id"), nullable=False
    )
    incentive: Mapped[Incentive] = mapped_column(enum_type(Incentive, "reward_incentive"))
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    #: First and last day (inclusive, Asia/Seoul) on which grants draw on this budget.
    period_start: Mapped[date] = mapped_column(sa.Date, nullable=False)
    period_end: Mapped[date] = mapped_column(sa.Date, nullable=False)
    #: In won.
    total_amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    remaining_amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    created_by_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    @property
    def spent_amount(self) -> int:
        """How much has been granted from this budget."""
        return self.total_amount - self.remaining_amount


class RewardLedgerEntry(db.Model):
    """One grant, redemption, expiry or correction; rows are only ever inserted.

    The balance of an incentive is the sum of its entries. A participation earns each incentive
    at most once: the unique (participation_id, incentive) makes the database refuse a second
    grant from a repeated confirmation, a retry or a second worker.
    """

    __tablename__ = "reward_ledger"
    __table_args__ = (
        sa.UniqueConstraint("participation_id", "incentive"),
        sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
        sa.CheckConstraint(
            "(kind = 'grant' AND amount > 0) OR (kind IN ('redemption', 'expiry') AND amount < 0)"
            " OR kind = 'correction'",
            name="sign_matches_kind",
        ),
        sa.Index("ix_reward_ledger_user", "user_id", "id"),
        sa.Index("ix_reward_ledger_municipality", "municipality_id", "id"),
    )

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("municipalities.id"), nullable=False
    )
    user_id: Mapped[str] = mapped_column(sa.String(26), sa.ForeignKey("users.id"), nullable=False)
    incentive: Mapped[Incentive] = mapped_column(enum_type(Incentive, "reward_incentive"))
    kind: Mapped[EntryKind] = mapped_column(enum_type(EntryKind, "reward_entry_kind"))
    #: Positive adds to the balance, negative takes from it.
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    reason: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    #: The confirmed participation that earned a grant (its source); NULL for staff entries.
    participation_id: Mapped[str | None] = mapped_column(sa.String(26))
    rule_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("reward_rules.id"))
    budget_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("reward_budgets.id"))
    #: The official who recorded it (or confirmed the participation); NULL for the system.
    actor_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("users.id"))
    corrects_entry_id: Mapped[str | None] = mapped_column(
        sa.String(26), sa.ForeignKey("reward_ledger.id")
    )
    created_at: Mapped[datetime] = created_at_column()

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="selectin")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="selectin")

    @property
    def source(self) -> str:
        """Where the entry comes from: a participation, an official, or the system."""
        if self.participation_id:
            return "participation"
        return "official" if self.actor_id else "system"


@event.listens_for(RewardLedgerEntry, "before_update")
@event.listens_for(RewardLedgerEntry, "before_delete")
def _ledger_is_append_only(_mapper: object, _connection: object, target: RewardLedgerEntry) -> None:
    # A mistake is fixed with a correction entry, never by editing history.
    raise RuntimeError(f"reward ledger entry {target.id} is append-only")
