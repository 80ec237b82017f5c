"""Password hashing with Argon2id (a memory-hard KDF), tunable per deployment."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def _hasher() -> PasswordHasher:
    cached = current_app.extensions.get("password_hasher")
    if cached is None:
        cached = PasswordHasher(
            time_cost=current_app.config.get("ARGON2_TIME_COST", 3),
            memory_cost=current_app.config.get("ARGON2_MEMORY_KIB", 65536),
            parallelism=current_app.config.get("ARGON2_PARALLELISM", 2),
        )
        current_app.extensions["password_hasher"] = cached
    return cached


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Check a password against its stored hash, never raising on a bad hash."""
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def burn_verification_time(password: str) -> None:
    """Spend the time of one verification, so an unknown login is not told apart by timing."""
    verify_password(_dummy_hash(), password)


def _dummy_hash() -> str:
    cached = current_app.extensions.get("dummy_password_hash")
    if cached is None:
        cached = hash_password("not-a-real-password")
        current_app.extensions["dummy_password_hash"] = cached
    return cached
