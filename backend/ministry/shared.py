"""Ministry: what the sub-domain modules share (limits, the ministry-staff check)."""

from __future__ import annotations

from backend.errors import PermissionDenied
from backend.identity.models import User
from backend.permissions import (
    is_ministry_staff,
)

#: The ministry has picked good cases every year since 2015.
FIRST_CONTEST_YEAR = 2015
#: Days a case has for mediation once accepted, unless the committee sets another deadline.
DEFAULT_DEADLINE_DAYS = 60
#: Experience the brief asks of a practitioner member.
PRACTITIONER_MIN_YEARS = 10


def _ensure_ministry(actor: User) -> None:
    if not is_ministry_staff(actor):
        raise PermissionDenied("Only ministry staff may do this.")
