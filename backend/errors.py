"""Domain exceptions. They carry a stable machine code and know nothing of HTTP."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

FieldErrors = Mapping[str, Sequence[str]]


class DomainError(Exception):
    """Base of every error a service raises on purpose; `code` is stable for the app."""

    code = "error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: FieldErrors | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.code = code or self.code
        self.message = message or self.code.replace("_", " ")
        self.fields = {k: list(v) for k, v in (fields or {}).items()}
        self.details = dict(details or {})
        super().__init__(self.message)


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a rule tied to fields."""

    code = "validation_failed"


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does."""

    code = "not_found"


class Unauthenticated(DomainError):
    """No identity, or an identity that cannot be trusted any more."""

    code = "unauthenticated"


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""

    code = "permission_denied"


class Conflict(DomainError):
    """The request clashes with the current state (duplicates, illegal transitions)."""

    code = "conflict"


class RuleViolation(Conflict):
    """A business rule forbids the change in the current state; `code` names the rule."""

    code = "rule_violation"


class RateLimited(DomainError):
    """Too many attempts; `retry_after` seconds tell when to try again."""

    code = "rate_limited"

    def __init__(self, message: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


def illegal_transition(
    *,
    what: str,
    field: str,
    current: enum.Enum,
    target: enum.Enum,
    allowed: Sequence[enum.Enum],
    code: str,
) -> RuleViolation:
    """The refusal of a state machine's move (409): it names the moves that are allowed, in the
    message and under the state's field, so the app can offer them."""
    named = ", ".join(s.value for s in allowed) or "none"
    return RuleViolation(
        f"A {current.value} {what} cannot become {target.value}; allowed: {named}.",
        code=code,
        fields={field: [f"Allowed moves from {current.value}: {named}."]},
        details={"from": current.value, "to": target.value, "allowed": [s.value for s in allowed]},
    )
