"""Participation: what the sub-domain modules share (visibility, dates, stage counters, seats)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from backend.errors import (
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from backend.extensions import db
from backend.identity.models import User
from backend.participation.models import (
    Activity,
    Participation,
    ParticipationStatus,
    Project,
    ProjectStage,
    ProjectStatus,
    StageMode,
    Visibility,
)
from backend.permissions import (
    Role,
    scope_to_municipality,
)

PS = ParticipationStatus
#: Project statuses citizens can see (with public visibility).
PUBLISHED = (ProjectStatus.ACTIVE, ProjectStatus.COMPLETED)
#: Roles that see a municipality's drafts and private projects.
_SEES_UNPUBLISHED = frozenset({Role.OFFICIAL, Role.ANALYST, Role.ADMIN})

#: The participation state machine: from a status, the statuses it may move to.
TRANSITIONS: dict[ParticipationStatus, frozenset[ParticipationStatus]] = {
    PS.REGISTERED: frozenset({PS.ATTENDED, PS.CONFIRMED, PS.CANCELLED, PS.REJECTED, PS.NO_SHOW}),
    PS.ATTENDED: frozenset({PS.CONFIRMED, PS.REJECTED}),
    PS.CONFIRMED: frozenset(),
    PS.CANCELLED: frozenset({PS.REGISTERED}),
    PS.REJECTED: frozenset(),
    PS.NO_SHOW: frozenset(),
}
_STATUS_ORDER = list(PS)
MAX_HOURS = 100.0
_STAGE_COUNTERS = (
    "government_work_count",
    "confirmed_count",
    "confirmed_hours",
    "derived_mode",
    "mode",
)
_SURVEY_COUNTERS = ("response_count", "rating_sum", *(f"rating_{r}" for r in range(1, 6)))
MAX_HOURS_PER_DAY = 8.0


# ---- helpers --------------------------------------------------------------------------------


def _sees_unpublished(user: User) -> bool:
    return user.role in _SEES_UNPUBLISHED


def _ensure_manager(actor: User, row: Any) -> None:
    """Only an official of the row's municipality changes it."""
    if actor.role != Role.OFFICIAL or actor.municipality_id != row.municipality_id:
        raise PermissionDenied("Only an official of this municipality may do this.")


def _visible_projects(query: sa.Select, viewer: User) -> sa.Select:
    query = scope_to_municipality(query, Project, viewer)
    if _sees_unpublished(viewer):
        return query
    return query.where(Project.status.in_(PUBLISHED), Project.visibility == Visibility.PUBLIC)


def _check_dates(starts_on: date | None, ends_on: date | None, *, prefix: str = "") -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationFailed(
            "The end date is before the start date.",
            code="dates_out_of_order",
            fields={f"{prefix}ends_on": ["Must not be before starts_on."]},
        )


def _expire_cached(model: type, row_id: str, attributes: Sequence[str]) -> None:
    """Forget what a Core UPDATE changed behind the ORM's back (only those attributes, so the
    rest of the row is not read again)."""
    cached = db.session.identity_map.get(db.session.identity_key(model, row_id))
    if cached is not None:
        db.session.expire(cached, list(attributes))


def _mode_case(government_work: Any, confirmed: Any) -> sa.Case:
    """The derived mode, in SQL, from the (new) counter values."""
    return sa.case(
        (sa.and_(government_work > 0, confirmed > 0), StageMode.JOINT.value),
        (government_work > 0, StageMode.GOVERNMENT.value),
        (confirmed > 0, StageMode.CITIZEN.value),
        else_=StageMode.UNCLEAR.value,
    )


def derive_mode(*, government_work_count: int, confirmed_count: int) -> StageMode:
    """Who acted in a stage, from what was recorded (the same rule as the SQL above)."""
    if government_work_count and confirmed_count:
        return StageMode.JOINT
    if government_work_count:
        return StageMode.GOVERNMENT
    if confirmed_count:
        return StageMode.CITIZEN
    return StageMode.UNCLEAR


def _bump_stage(
    stage_id: str, *, government_work: int = 0, confirmed: int = 0, hours: float = 0.0
) -> None:
    """Move a stage's counters and its stored mode in one atomic UPDATE."""
    db.session.flush()
    table = ProjectStage.__table__
    government_expr = table.c.government_work_count + government_work
    confirmed_expr = table.c.confirmed_count + confirmed
    derived = _mode_case(government_expr, confirmed_expr)
    db.session.execute(
        sa.update(table)
        .where(table.c.id == stage_id)
        .values(
            government_work_count=government_expr,
            confirmed_count=confirmed_expr,
            confirmed_hours=table.c.confirmed_hours + hours,
            derived_mode=derived,
            mode=sa.func.coalesce(table.c.override_mode, derived),
        )
    )
    _expire_cached(ProjectStage, stage_id, _STAGE_COUNTERS)


_ACTIVITIES = Activity.__table__
#: Built once: the hot path of recording pays no statement construction.
TAKE_SEAT = (
    sa.update(_ACTIVITIES)
    .where(
        _ACTIVITIES.c.id == sa.bindparam("activity_id"),
        sa.or_(
            _ACTIVITIES.c.capacity.is_(None),
            _ACTIVITIES.c.registered_count < _ACTIVITIES.c.capacity,
        ),
    )
    .values(registered_count=_ACTIVITIES.c.registered_count + 1)
)
INSERT_PARTICIPATION = sa.insert(Participation.__table__)
_ACTIVITY_BY_ID = sa.select(Activity).where(Activity.id == sa.bindparam("activity_id"))


def _take_seat(activity: Activity) -> None:
    """Count one more seat taken, refusing atomically when the activity is full."""
    result = db.session.execute(TAKE_SEAT, {"activity_id": activity.id})
    _expire_cached(Activity, activity.id, ["registered_count"])
    if result.rowcount == 0:
        raise RuleViolation("This activity is full.", code="activity_full")


def _free_seat(activity_id: str) -> None:
    db.session.flush()
    table = Activity.__table__
    db.session.execute(
        sa.update(table)
        .where(table.c.id == activity_id)
        .values(registered_count=table.c.registered_count - 1)
    )
    _expire_cached(Activity, activity_id, ["registered_count"])
