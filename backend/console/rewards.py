"""Rewards (officials; the ministry reads): rules, budgets with what is left, the ledger; an
official adds and edits rules and budgets with the API's schemas and services."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import request

from backend.api import rewards as api
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.forms import form_page, submit
from backend.console.pages import done, page, page_args
from backend.participation.models import ActivityKind, Stage
from backend.rewards import services
from backend.rewards.models import (
    MONETARY_INCENTIVES,
    RULE_INCENTIVES,
    CapPeriod,
    Incentive,
)
from backend.rewards.schemas import (
    BudgetCreateSchema,
    BudgetUpdateSchema,
    RewardRuleCreateSchema,
    RewardRuleUpdateSchema,
)


def _rewards_page(status: int = 200, **context: Any) -> Any:
    viewer = current_user()
    return page(
        "rewards.html",
        status,
        rules=services.list_rules(viewer=viewer, limit=100, cursor=None).items,
        budgets=services.list_budgets(viewer=viewer, limit=100, cursor=None).items,
        entries=services.list_entries(viewer=viewer, **page_args()),
        budget_incentives=[i for i in Incentive if i in MONETARY_INCENTIVES],
        rule_incentives=[i for i in Incentive if i in RULE_INCENTIVES],
        stages=list(Stage),
        kinds=list(ActivityKind),
        periods=list(CapPeriod),
        form=request.form,
        **context,
    )


@bp.route("/rewards")
@mirrors(api.list_reward_rules, api.list_budgets, api.list_reward_entries)
def rewards() -> Any:
    """Rules, budgets with what is left, and the municipality's latest ledger entries."""
    return _rewards_page()


def _create(schema: Any, write: Any) -> Any:
    saved, errors = submit(
        schema(), partial(write, actor=current_user()), lambda _: done("console.rewards")
    )
    return saved or _rewards_page(422, errors=errors)


@bp.route("/rewards/rules", methods=["POST"])
@mirrors(api.create_reward_rule)
def reward_rule_new() -> Any:
    """Add a reward rule (what a confirmed participation earns)."""
    return _create(RewardRuleCreateSchema, services.create_rule)


@bp.route("/rewards/budgets", methods=["POST"])
@mirrors(api.create_budget)
def budget_new() -> Any:
    """Add a budget for a monetary incentive."""
    return _create(BudgetCreateSchema, services.create_budget)


def _rule_form_extra() -> dict[str, Any]:
    # A checkbox sends nothing when cleared, and a blank cap means "no cap" (null in the API),
    # not "unchanged": the edit form always shows every field.
    extra: dict[str, Any] = {"is_active": bool(request.form.get("is_active"))}
    for name in ("cap_amount", "cap_period"):
        if not request.form.get(name, "").strip():
            extra[name] = None
    return extra


@bp.route("/rewards/rules/<rule_id>/edit", methods=["GET", "POST"])
@mirrors(api.update_reward_rule)
def reward_rule_edit(rule_id: str) -> Any:
    """Change a rule's name, amounts or cap, or switch it off (grants already made stay)."""
    actor = current_user()
    rule = services.get_rule(viewer=actor, rule_id=rule_id)
    return form_page(
        "reward_rule_form.html",
        RewardRuleUpdateSchema(),
        partial(services.update_rule, actor=actor, rule=rule),
        lambda _: done("console.rewards"),
        extra=_rule_form_extra,
        rule=rule,
        periods=list(CapPeriod),
    )


@bp.route("/rewards/budgets/<budget_id>/edit", methods=["GET", "POST"])
@mirrors(api.update_budget)
def budget_edit(budget_id: str) -> Any:
    """Rename a budget or change its total (never below what was already granted)."""
    actor = current_user()
    budget = services.get_budget(viewer=actor, budget_id=budget_id)
    return form_page(
        "budget_form.html",
        BudgetUpdateSchema(),
        partial(services.update_budget, actor=actor, budget=budget),
        lambda _: done("console.rewards"),
        budget=budget,
    )
