"""Who reacts to which domain event: the whole wiring, in one readable place."""

from __future__ import annotations

from flask import Flask


def register_subscriptions(app: Flask) -> None:
    """Subscribe each domain's handlers to the events it reacts to."""
    with app.app_context():
        pass  # domains add their subscriptions here, e.g. rewards on PARTICIPATION_CONFIRMED
