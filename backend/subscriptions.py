"""Who reacts to which domain event: the whole wiring, in one readable place."""

from __future__ import annotations

from flask import Flask

from backend.events import PARTICIPATION_CONFIRMED, subscribe


def register_subscriptions(app: Flask) -> None:
    """Subscribe each domain's handlers to the events it reacts to."""
    from backend.certification.services import issue_on_participation_confirmed
    from backend.rewards.services import grant_for_participation

    with app.app_context():
        # Rewards first, then certificates: both run in the confirming transaction.
        subscribe(PARTICIPATION_CONFIRMED, grant_for_participation)
        subscribe(PARTICIPATION_CONFIRMED, issue_on_participation_confirmed)
