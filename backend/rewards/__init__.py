"""Rewards (보상체계): reward rules, budgets and each citizen's append-only reward ledger."""
