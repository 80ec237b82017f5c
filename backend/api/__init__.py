"""The HTTP layer: thin blueprints over the domain services."""

from __future__ import annotations

from flask import Flask

from backend.api import (
    audit,
    certification,
    committees,
    identity,
    meetings,
    ministry,
    notifications,
    participation,
    privacy,
    reports,
    rewards,
    system,
)
from backend.extensions import api

#: Every blueprint, in the order the contract lists them; no auto-discovery.
BLUEPRINTS = [
    system.blp,
    identity.blp,
    audit.blp,
    participation.blp,
    reports.blp,
    committees.blp,
    meetings.blp,
    rewards.blp,
    certification.blp,
    certification.wellknown,
    notifications.blp,
    ministry.blp,
    privacy.blp,
]


def register_blueprints(app: Flask) -> None:
    """Register every blueprint with the flask-smorest Api (and so with the contract)."""
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
