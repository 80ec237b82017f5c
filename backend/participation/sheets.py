"""A filled-in paper sign-in sheet (CSV): its rows, the citizen each names, and recording a row
through `record_participation`. The console's preview, its inline import and the job worker all
record rows here, so a sheet row means the same thing on every path."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from backend.errors import DomainError
from backend.extensions import db
from backend.identity.models import User
from backend.identity.services import normalize_email, normalize_phone
from backend.participation.participations import record_participation

#: Biggest sign-in sheet accepted (a venue's paper list, not a bulk migration).
MAX_CSV_ROWS = 1000
_TRUE = {"1", "y", "yes", "true", "o", "출석", "예"}
#: The row named nobody (no user_id, email or phone): not a service error, the sheet's own.
NO_CITIZEN = "sheet_no_citizen"


@dataclass
class SheetRow:
    """One line of the paper sheet and what recording it did (or would do)."""

    line: int
    who: str
    attended: bool
    user_id: str | None = None
    name: str = ""
    error_code: str | None = None
    error_message: str | None = None

    @property
    def error(self) -> str | None:
        """The refusal's code, if the row could not be recorded."""
        return self.error_code

    def as_item(self) -> list[Any]:
        """The row as a job stores it (JSON)."""
        return [self.line, self.who, self.attended]

    @classmethod
    def from_item(cls, item: list[Any]) -> SheetRow:
        """A row back from a job's stored input."""
        line, who, attended = item
        return cls(line=int(line), who=str(who), attended=bool(attended))


def read_rows(text: str) -> list[SheetRow]:
    """The CSV's rows: `user_id`, `email` or `phone` names the citizen; `attended` optional."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    rows = []
    for line, record in enumerate(reader, start=2):
        if line - 1 > MAX_CSV_ROWS:
            break
        record = {(k or "").strip().lower(): (v or "").strip() for k, v in record.items()}
        who = record.get("user_id") or record.get("email") or record.get("phone") or ""
        attended = record.get("attended", "1").lower() in _TRUE
        rows.append(SheetRow(line=line, who=who[:254], attended=attended))
    return rows


def find_user(who: str) -> tuple[str, str] | None:
    """(id, name) of the account an id, e-mail or phone names; None when there is none.

    Only finds an id: whether the citizen may be recorded here is the service's decision.
    """
    if "@" in who:
        condition = User.email == normalize_email(who)
    elif who.replace("-", "").replace("+", "").replace(" ", "").isdigit():
        condition = User.phone == normalize_phone(who)
    else:
        condition = User.id == who
    found = db.session.execute(
        sa.select(User.id, User.display_name).where(condition, User.deleted_at.is_(None))
    ).first()
    return None if found is None else (found[0], found[1])


def record_sheet_row(*, actor: User, activity: Any, row: SheetRow, keep: bool) -> None:
    """Record one row through the service in its own savepoint (kept or, for a preview, undone);
    the outcome is written on the row. A refusal of the whole action (the official may not
    record here) is raised, not reported per row."""
    if not row.who:
        row.error_code, row.error_message = NO_CITIZEN, "No citizen given."
        return
    found = find_user(row.who)
    if found is None:
        row.error_code, row.error_message = (
            "user_not_found",
            "No such citizen in this municipality.",
        )
        return
    savepoint = db.session.begin_nested()
    try:
        record_participation(
            actor=actor, activity=activity, user_id=found[0], attended=row.attended
        )
    except DomainError as error:
        savepoint.rollback()
        if error.code in WHOLE_SHEET_REFUSALS:
            raise
        # The account stays unnamed: a citizen of another municipality is not shown.
        row.error_code, row.error_message = error.code, error.message
        return
    row.user_id, row.name = found
    if keep:
        savepoint.commit()
    else:
        savepoint.rollback()


#: Refusals that hold for every row alike: the import stops instead of reporting each line.
WHOLE_SHEET_REFUSALS = frozenset({"permission_denied", "project_not_open"})
