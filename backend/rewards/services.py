"""Rewards: rules, budgets, and the ledger (grants, redemptions, expiries, corrections).

A confirmed participation earns rewards through `grant_for_participation`, subscribed to
PARTICIPATION_CONFIRMED and so run inside the confirming transaction. Every change is an
inserted ledger entry; balances are sums. Two database guards make double payment impossible:
a participation earns an incentive at most once (unique (participation_id, incentive), inserted
with ON CONFLICT DO NOTHING), and a budget is drawn on only by a conditional UPDATE.

The services live in sub-modules named after what they hold; this module re-exports their
public names, so `from backend.rewards.services import X` keeps working.
"""

from __future__ import annotations

from backend.rewards.budgets import (
    budget_for,
    create_budget,
    get_budget,
    list_budgets,
    update_budget,
)
from backend.rewards.grants import grant_for_participation
from backend.rewards.ledger import (
    INCENTIVE_ORDER,
    balance_of,
    balances,
    get_citizen_for,
    grant_reward,
    list_entries,
    record_correction,
    record_redemption,
)
from backend.rewards.rules import (
    create_rule,
    get_rule,
    list_rules,
    matching_rules,
    reward_amount,
    update_rule,
)

__all__ = [
    "list_rules",
    "get_rule",
    "create_rule",
    "update_rule",
    "matching_rules",
    "reward_amount",
    "list_budgets",
    "get_budget",
    "create_budget",
    "update_budget",
    "budget_for",
    "INCENTIVE_ORDER",
    "balances",
    "balance_of",
    "list_entries",
    "get_citizen_for",
    "grant_reward",
    "record_redemption",
    "record_correction",
    "grant_for_participation",
]
