"""Rewards (officials; the ministry reads): rules, budgets with what is left, the ledger."""

from __future__ import annotations

from typing import Any

from flask import request

from backend.api import rewards as api
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.forms import domain_errors, load_form
from backend.console.pages import done, page, page_args
from backend.errors import DomainError
from backend.participation.models import ActivityKind, Stage
from backend.rewards import services
from backend.rewards.models import (
    MONETARY_INCENTIVES,
    RULE_INCENTIVES,
    CapPeriod,
    Incentive,
)
from backend.rewards.schemas import BudgetCreateSchema, RewardRuleCreateSchema


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
    data, errors = load_form(schema())
    if data is not None:
        try:
            write(actor=current_user(), **data)
            return done("console.rewards")
        except DomainError as error:
            errors = domain_errors(error)
    return _rewards_page(422, errors=errors)


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
