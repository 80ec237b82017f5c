"""HTTP for rewards: rules, budgets, the caller's ledger, and officials' grants and redemptions."""

from __future__ import annotations

from typing import Any

from backend.api.access_log import log_access, user_ids
from backend.api.auth import current_caller, requires
from backend.api.blueprint import Blueprint
from backend.identity.services import get_user_for
from backend.permissions import Role
from backend.privacy.models import AccessAction
from backend.rewards import services
from backend.rewards.schemas import (
    BudgetCreateSchema,
    BudgetListArgsSchema,
    BudgetSchema,
    BudgetUpdateSchema,
    CitizenRewardsSchema,
    CorrectionCreateSchema,
    EntryListArgsSchema,
    GrantCreateSchema,
    LedgerArgsSchema,
    MyRewardsSchema,
    RedemptionCreateSchema,
    RewardEntryStaffSchema,
    RewardRuleCreateSchema,
    RewardRuleListArgsSchema,
    RewardRuleSchema,
    RewardRuleUpdateSchema,
)
from backend.schemas import page_of

blp = Blueprint("rewards", __name__, url_prefix="/api/v1", description="Rewards (보상체계)")

#: Who reads rules and budgets: the municipality's staff, and the ministry.
READERS = (Role.OFFICIAL, Role.ADMIN, Role.ANALYST)


def _ledger(user_id: str, args: dict[str, Any]) -> dict[str, Any]:
    page = services.list_entries(user_id=user_id, **args)
    return {
        "balances": [
            {"incentive": incentive, "amount": amount}
            for incentive, amount in services.balances(user_id=user_id).items()
        ],
        "items": page.items,
        "next_cursor": page.next_cursor,
    }


# ---- rules ----------------------------------------------------------------------------------


@blp.route("/reward-rules", methods=["GET"])
@requires(Role.CITIZEN, *READERS)
@blp.arguments(RewardRuleListArgsSchema, location="query")
@blp.response(200, page_of(RewardRuleSchema))
def list_reward_rules(args: dict[str, Any]) -> Any:
    """Reward rules of the caller's municipality (all for the ministry), newest first."""
    return services.list_rules(viewer=current_caller(), **args)


@blp.route("/reward-rules", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(RewardRuleCreateSchema)
@blp.response(201, RewardRuleSchema)
def create_reward_rule(data: dict[str, Any]) -> Any:
    """Add a rule: what a confirmed participation earns, by stage, activity kind and hours."""
    return services.create_rule(actor=current_caller(), **data)


@blp.route("/reward-rules/<rule_id>", methods=["GET"])
@requires(Role.CITIZEN, *READERS)
@blp.response(200, RewardRuleSchema)
def get_reward_rule(rule_id: str) -> Any:
    """One reward rule."""
    return services.get_rule(viewer=current_caller(), rule_id=rule_id)


@blp.route("/reward-rules/<rule_id>", methods=["PATCH"])
@requires(Role.OFFICIAL)
@blp.arguments(RewardRuleUpdateSchema)
@blp.response(200, RewardRuleSchema)
def update_reward_rule(data: dict[str, Any], rule_id: str) -> Any:
    """Change a rule's name, amounts, cap, or switch it off (grants already made stay)."""
    actor = current_caller()
    rule = services.get_rule(viewer=actor, rule_id=rule_id)
    return services.update_rule(actor=actor, rule=rule, **data)


# ---- budgets --------------------------------------------------------------------------------


@blp.route("/budgets", methods=["GET"])
@requires(*READERS)
@blp.arguments(BudgetListArgsSchema, location="query")
@blp.response(200, page_of(BudgetSchema))
def list_budgets(args: dict[str, Any]) -> Any:
    """Budgets for monetary incentives, newest first."""
    return services.list_budgets(viewer=current_caller(), **args)


@blp.route("/budgets", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(BudgetCreateSchema)
@blp.response(201, BudgetSchema)
def create_budget(data: dict[str, Any]) -> Any:
    """Set a budget for vouchers, cash or in-kind goods over a period (periods may not overlap)."""
    return services.create_budget(actor=current_caller(), **data)


@blp.route("/budgets/<budget_id>", methods=["GET"])
@requires(*READERS)
@blp.response(200, BudgetSchema)
def get_budget(budget_id: str) -> Any:
    """One budget, with what remains of it."""
    return services.get_budget(viewer=current_caller(), budget_id=budget_id)


@blp.route("/budgets/<budget_id>", methods=["PATCH"])
@requires(Role.OFFICIAL)
@blp.arguments(BudgetUpdateSchema)
@blp.response(200, BudgetSchema)
def update_budget(data: dict[str, Any], budget_id: str) -> Any:
    """Rename a budget or change its total (never below what was already granted)."""
    actor = current_caller()
    budget = services.get_budget(viewer=actor, budget_id=budget_id)
    return services.update_budget(actor=actor, budget=budget, **data)


# ---- ledgers --------------------------------------------------------------------------------


@blp.route("/me/rewards", methods=["GET"])
@requires(Role.CITIZEN)
@blp.arguments(LedgerArgsSchema, location="query")
@blp.response(200, MyRewardsSchema)
def my_rewards(args: dict[str, Any]) -> Any:
    """The caller's balance of every incentive and their ledger, newest first."""
    return _ledger(current_caller().id, args)


@blp.route("/users/<user_id>/rewards", methods=["GET"])
@requires(*READERS)
@blp.arguments(LedgerArgsSchema, location="query")
@blp.response(200, CitizenRewardsSchema)
def citizen_rewards(args: dict[str, Any], user_id: str) -> Any:
    """A citizen's balances and ledger (their municipality's staff, the ministry)."""
    user = get_user_for(viewer=current_caller(), user_id=user_id)
    log_access(AccessAction.VIEW, "user.rewards", [user.id], resource_id=user.id)
    return {"user": user, **_ledger(user.id, args)}


@blp.route("/rewards/entries", methods=["GET"])
@requires(*READERS)
@blp.arguments(EntryListArgsSchema, location="query")
@blp.response(200, page_of(RewardEntryStaffSchema))
def list_reward_entries(args: dict[str, Any]) -> Any:
    """Ledger entries of the caller's municipality, filterable by citizen, kind and incentive."""
    page = services.list_entries(viewer=current_caller(), **args)
    log_access(AccessAction.VIEW, "rewards.entries", user_ids(page.items))
    return page


@blp.route("/rewards/grants", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(GrantCreateSchema)
@blp.response(201, RewardEntryStaffSchema)
def grant_reward(data: dict[str, Any]) -> Any:
    """Grant a reward: a commendation (표창), or points, a voucher, cash or goods.

    Monetary incentives draw on the current budget: 409 `no_budget` or `budget_exhausted`.
    """
    actor = current_caller()
    user = services.get_citizen_for(actor=actor, user_id=data.pop("user_id"))
    return services.grant_reward(actor=actor, user=user, **data)


@blp.route("/rewards/redemptions", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(RedemptionCreateSchema)
@blp.response(201, RewardEntryStaffSchema)
def record_redemption(data: dict[str, Any]) -> Any:
    """Record that a citizen spent points or a voucher (409 `insufficient_balance`)."""
    actor = current_caller()
    user = services.get_citizen_for(actor=actor, user_id=data.pop("user_id"))
    return services.record_redemption(actor=actor, user=user, **data)


@blp.route("/rewards/corrections", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(CorrectionCreateSchema)
@blp.response(201, RewardEntryStaffSchema)
def record_correction(data: dict[str, Any]) -> Any:
    """Correct a balance, or record an expiry, as a new entry with its reason."""
    actor = current_caller()
    user = services.get_citizen_for(actor=actor, user_id=data.pop("user_id"))
    return services.record_correction(actor=actor, user=user, **data)
