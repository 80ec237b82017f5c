"""Reward schemas: rules, budgets, ledger entries and balances, per audience."""

from __future__ import annotations

import enum
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from backend.identity.schemas import UserPublicSchema
from backend.rewards.models import (
    MONETARY_INCENTIVES,
    REDEEMABLE_INCENTIVES,
    RULE_INCENTIVES,
    CapPeriod,
    EntryKind,
    Incentive,
)
from backend.schemas import (
    Id,
    InputSchema,
    OutputSchema,
    PageArgsSchema,
    SeoulDate,
    SeoulDateTime,
    Text,
)

#: The stages and activity kinds of the participation domain (its event contract).
STAGES = ("plan", "decide", "implement", "evaluate")
ACTIVITY_KINDS = (
    "workshop",
    "deliberation",
    "survey",
    "field_work",
    "meeting",
    "monitoring",
    "training",
)
MAX_AMOUNT = 1_000_000_000
MAX_BUDGET = 10**13
#: A cap per citizen per month or year: the column is a 32-bit integer, and no reward rule
#: caps a citizen anywhere near 2.1 billion (points or won) in a year.
MAX_CAP = 2**31 - 1


class _EnumChoice(fields.Enum):
    """Some members of an enum: the contract lists only those, loading gives the full enum's."""

    def __init__(self, base: type[enum.StrEnum], choices: Any, **kwargs: Any) -> None:
        self.base = base
        members = sorted(choices, key=list(base).index)
        subset = enum.StrEnum(f"{base.__name__}Choice", {m.name: m.value for m in members})
        super().__init__(subset, by_value=fields.String, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        return self.base(super()._deserialize(value, attr, data, **kwargs))


def _incentive(choices: frozenset[Incentive] | None = None, **kwargs: Any) -> fields.Enum:
    if choices is None:
        return fields.Enum(Incentive, by_value=fields.String, **kwargs)
    return _EnumChoice(Incentive, choices, **kwargs)


def _amount(**kwargs: object) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_AMOUNT), **kwargs)


# ---- rules ----------------------------------------------------------------------------------


class RewardRuleSchema(OutputSchema):
    id = Id(required=True)
    municipality_id = Id(required=True)
    name = fields.String(required=True, metadata={"example": "계획 단계 참여 포인트"})
    incentive = _incentive(required=True)
    stage = fields.String(
        allow_none=True, required=True, metadata={"description": "NULL: every stage."}
    )
    activity_kind = fields.String(
        allow_none=True, required=True, metadata={"description": "NULL: every activity kind."}
    )
    amount = fields.Integer(required=True, metadata={"description": "Per participation."})
    amount_per_hour = fields.Integer(required=True, metadata={"description": "Per hour, added."})
    cap_amount = fields.Integer(allow_none=True, required=True)
    cap_period = fields.Enum(CapPeriod, by_value=fields.String, allow_none=True, required=True)
    is_active = fields.Boolean(required=True)
    created_at = SeoulDateTime(required=True)


class RewardRuleCreateSchema(InputSchema):
    name = Text(100, min_length=1, required=True)
    incentive = _incentive(RULE_INCENTIVES, required=True)
    stage = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(STAGES))
    activity_kind = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(ACTIVITY_KINDS)
    )
    amount = _amount(load_default=0)
    amount_per_hour = _amount(load_default=0)
    cap_amount = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_CAP),
    )
    cap_period = fields.Enum(CapPeriod, by_value=fields.String, load_default=None, allow_none=True)
    is_active = fields.Boolean(load_default=True)

    @validates_schema
    def _earns_something(self, data: dict, **_kwargs: object) -> None:
        if not data.get("amount") and not data.get("amount_per_hour"):
            raise ValidationError("Give an amount or an amount per hour.", "amount")

    @validates_schema
    def _cap_both_or_neither(self, data: dict, **_kwargs: object) -> None:
        if (data.get("cap_amount") is None) != (data.get("cap_period") is None):
            raise ValidationError(
                "Give both a cap amount and a cap period, or neither.", "cap_amount"
            )


class RewardRuleUpdateSchema(InputSchema):
    """Only the fields sent change; the rule as a whole is checked after (caps in pairs)."""

    name = Text(100, min_length=1)
    amount = _amount()
    amount_per_hour = _amount()
    cap_amount = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=MAX_CAP)
    )
    cap_period = fields.Enum(CapPeriod, by_value=fields.String, allow_none=True)
    is_active = fields.Boolean()


class RewardRuleListArgsSchema(PageArgsSchema):
    is_active = fields.Boolean(load_default=None)


# ---- budgets --------------------------------------------------------------------------------


class BudgetSchema(OutputSchema):
    id = Id(required=True)
    municipality_id = Id(required=True)
    incentive = _incentive(required=True)
    name = fields.String(required=True, metadata={"example": "2026년 공동생산 참여 상품권"})
    period_start = SeoulDate(required=True)
    period_end = SeoulDate(required=True, metadata={"description": "Last day, inclusive."})
    total_amount = fields.Integer(required=True, metadata={"description": "Won."})
    remaining_amount = fields.Integer(required=True)
    spent_amount = fields.Integer(required=True)
    created_at = SeoulDateTime(required=True)


class BudgetCreateSchema(InputSchema):
    incentive = _incentive(MONETARY_INCENTIVES, required=True)
    name = Text(100, min_length=1, required=True)
    period_start = SeoulDate(required=True)
    period_end = SeoulDate(required=True)
    total_amount = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_BUDGET)
    )

    @validates_schema
    def _period_in_order(self, data: dict, **_kwargs: object) -> None:
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            raise ValidationError("Must not be before period_start.", "period_end")


class BudgetUpdateSchema(InputSchema):
    name = Text(100, min_length=1)
    total_amount = fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_BUDGET))


class BudgetListArgsSchema(PageArgsSchema):
    incentive = _incentive(MONETARY_INCENTIVES, load_default=None)
    active_on = SeoulDate(load_default=None)


# ---- the ledger -----------------------------------------------------------------------------


class RewardEntrySchema(OutputSchema):
    """A ledger entry as its citizen sees it."""

    id = Id(required=True)
    incentive = _incentive(required=True)
    kind = fields.Enum(EntryKind, by_value=fields.String, required=True)
    amount = fields.Integer(
        required=True, metadata={"description": "Positive adds to the balance, negative spends."}
    )
    reason = fields.String(required=True)
    source = fields.String(
        required=True,
        validate=validate.OneOf(("participation", "official", "system")),
        metadata={"description": "participation, official or system."},
    )
    participation_id = Id(allow_none=True, required=True)
    recorded_by = fields.Nested(UserPublicSchema, attribute="actor", allow_none=True, required=True)
    corrects_entry_id = Id(allow_none=True, required=True)
    created_at = SeoulDateTime(required=True)


class RewardEntryStaffSchema(RewardEntrySchema):
    """A ledger entry as officials see it."""

    municipality_id = Id(required=True)
    user = fields.Nested(UserPublicSchema, required=True)
    rule_id = Id(allow_none=True, required=True)
    budget_id = Id(allow_none=True, required=True)


class BalanceSchema(OutputSchema):
    incentive = _incentive(required=True)
    amount = fields.Integer(required=True)


class MyRewardsSchema(OutputSchema):
    """The caller's balances and one page of their ledger."""

    balances = fields.List(fields.Nested(BalanceSchema), required=True)
    items = fields.List(fields.Nested(RewardEntrySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class CitizenRewardsSchema(OutputSchema):
    """A citizen's balances and one page of their ledger, for officials."""

    user = fields.Nested(UserPublicSchema, required=True)
    balances = fields.List(fields.Nested(BalanceSchema), required=True)
    items = fields.List(fields.Nested(RewardEntryStaffSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class LedgerArgsSchema(PageArgsSchema):
    incentive = _incentive(load_default=None)
    kind = fields.Enum(EntryKind, by_value=fields.String, load_default=None)


class EntryListArgsSchema(LedgerArgsSchema):
    user_id = Id(load_default=None)


class GrantCreateSchema(InputSchema):
    user_id = Id(required=True)
    incentive = _incentive(required=True)
    amount = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_AMOUNT),
        metadata={"description": "Required except for a commendation (always 1)."},
    )
    reason = Text(200, min_length=1, required=True, metadata={"example": "구청장 표창"})

    @validates_schema
    def _amount_unless_commendation(self, data: dict, **_kwargs: object) -> None:
        if data.get("incentive") != Incentive.COMMENDATION and data.get("amount") is None:
            raise ValidationError("Required for this incentive.", "amount")


class RedemptionCreateSchema(InputSchema):
    user_id = Id(required=True)
    incentive = _incentive(REDEEMABLE_INCENTIVES, required=True)
    amount = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_AMOUNT)
    )
    reason = Text(200, min_length=1, required=True, metadata={"example": "지역 상점 사용"})


class CorrectionCreateSchema(InputSchema):
    user_id = Id(required=True)
    incentive = _incentive(required=True)
    kind = _EnumChoice(
        EntryKind, (EntryKind.CORRECTION, EntryKind.EXPIRY), load_default=EntryKind.CORRECTION
    )
    amount = fields.Integer(
        strict=True,
        required=True,
        validate=[
            validate.Range(min=-MAX_AMOUNT, max=MAX_AMOUNT),
            validate.NoneOf([0], error="Must not be zero."),
        ],
        metadata={"description": "Signed: negative takes away (an expiry is negative)."},
    )
    reason = Text(200, min_length=1, required=True)
    corrects_entry_id = Id(load_default=None, allow_none=True)

    @validates_schema
    def _expiry_takes_away(self, data: dict, **_kwargs: object) -> None:
        if data.get("kind") == EntryKind.EXPIRY and (data.get("amount") or 0) > 0:
            raise ValidationError("An expiry is negative.", "amount")
