"""Rewards: the rules that say what a confirmed participation earns (amount, per hour, cap)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from backend.audit.services import save_and_audit
from backend.clock import utcnow
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.ids import new_id
from backend.pagination import Page, paginate, where_given
from backend.permissions import ensure_same_municipality, scope_to_municipality
from backend.rewards.models import (
    CapPeriod,
    Incentive,
    RewardRule,
)


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
