"""What a sign-up body needs besides the login: a birth year and the consents shown."""

from __future__ import annotations

from typing import Any

from backend.privacy.consents import CONSENT_TEXTS


def consents(**granted: bool) -> list[dict[str, Any]]:
    """A decision on every purpose at its current version: required ones granted, optional
    ones as given (default refused)."""
    return [
        {
            "purpose": purpose,
            "version": text.version,
            "granted": text.required or granted.get(purpose, False),
        }
        for purpose, text in CONSENT_TEXTS.items()
    ]


def signup_fields(birth_year: int = 1990, **granted: bool) -> dict[str, Any]:
    """The privacy part of POST /api/v1/auth/register."""
    return {"birth_year": birth_year, "consents": consents(**granted)}
