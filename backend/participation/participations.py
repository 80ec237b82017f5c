"""Participation: joining, recording, check-in and the participation state machine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import lazyload, selectinload

from backend import events
from backend.audit.services import record_audit, save_and_audit
from backend.clock import utcnow
from backend.database import insert_attached, lock_row, read_for_update
from backend.errors import (
    NotFound,
    RuleViolation,
    ValidationFailed,
    illegal_transition,
)
from backend.extensions import db
from backend.identity.models import User, account_usable
from backend.ids import new_id
from backend.pagination import Page
from backend.participation import checkin
from backend.participation.activities import _seoul_days
from backend.participation.models import (
    Activity,
    Participation,
    ParticipationStatus,
    ProjectStatus,
)
from backend.participation.shared import (
    _STATUS_ORDER,
    MAX_HOURS,
    MAX_HOURS_PER_DAY,
    PS,
    TRANSITIONS,
    _bump_stage,
    _ensure_manager,
    _free_seat,
    _take_seat,
)
from backend.permissions import (
    Role,
    can_see_participation,
    is_citizen_of,
)
from backend.rows import get_visible, list_page

# ---- participations -------------------------------------------------------------------------


def _illegal(participation: Participation, target: ParticipationStatus) -> RuleViolation:
    return illegal_transition(
        what="participation",
        field="status",
        current=participation.status,
        target=target,
        allowed=sorted(TRANSITIONS[participation.status], key=_STATUS_ORDER.index),
        code="illegal_transition",
    )


def _move(participation: Participation, target: ParticipationStatus) -> None:
    if target not in TRANSITIONS[participation.status]:
        raise _illegal(participation, target)
    participation.status = target


def _new_participation(
    activity: Activity,
    user_id: str,
    *,
    recorded_by: str | None,
    status: ParticipationStatus,
    decided: Mapping[str, Any] | None = None,
) -> Participation:
    """Insert a participation (one Core INSERT, the hot path of recording) and attach it.

    `decided` sets the decision's columns (status, hours, decided_at, decided_by) in the same
    INSERT, for a participation confirmed as it is made (a meeting's attendance).
    """
    row = participation_row(activity, user_id, recorded_by=recorded_by, status=status)
    row.update(decided or {})
    return insert_attached(Participation, row)


def participation_row_of(participation: Participation) -> dict[str, Any]:
    """The stored columns of a participation."""
    return {c.key: getattr(participation, c.key) for c in Participation.__table__.columns}


def participation_row(
    activity: Any, user_id: str, *, recorded_by: str | None, status: ParticipationStatus
) -> dict[str, Any]:
    """Every column of a new participation in an activity (an ORM object or a row)."""
    now = utcnow()
    return {
        "id": new_id(),
        "municipality_id": activity.municipality_id,
        "user_id": user_id,
        "activity_id": activity.id,
        "project_id": activity.project_id,
        "stage_id": activity.stage_id,
        "stage": activity.stage,
        "activity_starts_at": activity.starts_at,
        "status": status,
        "hours": None,
        "registered_at": now,
        "attended_at": now if status == PS.ATTENDED else None,
        "decided_at": None,
        "decided_by": None,
        "rejection_reason": None,
        "recorded_by": recorded_by,
    }


def _existing(activity_id: str, user_id: str) -> Participation | None:
    return db.session.scalar(
        sa.select(Participation).where(
            Participation.activity_id == activity_id, Participation.user_id == user_id
        )
    )


def _rejoin(existing: Participation, activity: Activity) -> Participation:
    if existing.status in (PS.REJECTED, PS.NO_SHOW):
        raise _illegal(existing, PS.REGISTERED)
    if existing.status != PS.CANCELLED:
        raise RuleViolation("Already taking part in this activity.", code="already_joined")
    _take_seat(activity)
    _move(existing, PS.REGISTERED)
    existing.registered_at = utcnow()
    existing.attended_at = existing.decided_at = existing.decided_by = None
    return existing


def join_activity(*, actor: User, activity: Activity) -> Participation:
    """A citizen joins an activity of their municipality (a seat is taken; full is a 409)."""
    if not is_citizen_of(actor, activity.municipality_id):
        raise NotFound("Activity not found.", code="activity_not_found")
    if activity.project.status != ProjectStatus.ACTIVE:
        raise RuleViolation("The project is not open for participation.", code="project_not_open")
    if utcnow() >= activity.ends_at:
        raise RuleViolation("The activity is over.", code="activity_ended")
    existing = _existing(activity.id, actor.id)
    if existing is not None:
        participation = _rejoin(existing, activity)
    else:
        _take_seat(activity)
        participation = _new_participation(
            activity, actor.id, recorded_by=None, status=PS.REGISTERED
        )
    db.session.flush()
    return participation


#: A citizen's columns and their record in an activity, if any (the raw path reads these).
CITIZEN_AND_RECORD = (
    sa.select(User.role, User.municipality_id, User.is_active, User.deleted_at, Participation.id)
    .outerjoin(
        Participation,
        sa.and_(
            Participation.user_id == User.id,
            Participation.activity_id == sa.bindparam("activity_id"),
        ),
    )
    .where(User.id == sa.bindparam("user_id"))
)
_statements: dict[str, sa.Select] = {}


def _citizen_and_record() -> sa.Select:
    """The same, loading the User and the Participation (built once, bound per call)."""
    if "citizen_and_record" not in _statements:
        _statements["citizen_and_record"] = CITIZEN_AND_RECORD.with_only_columns(
            User, Participation
        ).options(lazyload(User.municipality))
    return _statements["citizen_and_record"]


#: Projects whose participations officials may still record (a finished one: paper sheets).
RECORDABLE_PROJECTS = frozenset({ProjectStatus.ACTIVE, ProjectStatus.COMPLETED})


def recordable_citizen(citizen: Any, municipality_id: str) -> bool:
    """Whether an official may record this user (a User or a row with its columns) here."""
    return (
        citizen is not None
        and citizen.role == Role.CITIZEN
        and account_usable(citizen)
        and citizen.municipality_id == municipality_id
    )


def record_participation(
    *, actor: User, activity: Activity, user_id: str, attended: bool = False
) -> Participation:
    """An official records a citizen's participation (a walk-in, a paper sign-in sheet)."""
    _ensure_manager(actor, activity)
    if activity.project.status not in RECORDABLE_PROJECTS:
        raise RuleViolation("The project is not open for participation.", code="project_not_open")
    # The citizen and any earlier record of theirs here, in one round trip.
    row = db.session.execute(
        _citizen_and_record(), {"activity_id": activity.id, "user_id": user_id}
    ).first()
    citizen, existing = row if row is not None else (None, None)
    if not recordable_citizen(citizen, activity.municipality_id):
        raise NotFound(
            "No such citizen in this municipality.",
            code="user_not_found",
            fields={"user_id": ["No such citizen in this municipality."]},
        )
    if existing is not None:
        participation = _rejoin(existing, activity)
        participation.recorded_by = actor.id
        if attended:
            participation.status = PS.ATTENDED
            participation.attended_at = utcnow()
    else:
        _take_seat(activity)
        participation = _new_participation(
            activity,
            user_id,
            recorded_by=actor.id,
            status=PS.ATTENDED if attended else PS.REGISTERED,
        )
    record_audit(
        actor=actor,
        action="participation.record",
        target_type="participation",
        target_id=participation.id,
        municipality_id=activity.municipality_id,
        details={
            "activity_id": activity.id,
            "user_id": user_id,
            "status": participation.status.value,
        },
    )
    db.session.flush()
    events.publish(
        events.PARTICIPATION_RECORDED,
        **recorded_payload(participation_row_of(participation), activity),
    )
    return participation


def recorded_payload(participation: Mapping[str, Any], activity: Any) -> dict[str, Any]:
    """The `participation.recorded` event of an official's record (its stored columns)."""
    return {
        "participation_id": participation["id"],
        "user_id": participation["user_id"],
        "municipality_id": activity.municipality_id,
        "project_id": activity.project_id,
        "activity_id": activity.id,
        "activity_title": activity.title,
        "starts_at": activity.starts_at,
        "status": participation["status"].value,
        "actor_id": participation["recorded_by"],
    }


def check_in(*, actor: User, activity: Activity, code: str) -> Participation:
    """A registered citizen checks in at the venue with the code shown there (once)."""
    participation = _existing(activity.id, actor.id)
    if participation is not None:
        participation = lock_row(Participation, participation)
    if participation is None or participation.status in (PS.CANCELLED, PS.REJECTED, PS.NO_SHOW):
        raise RuleViolation("You have not joined this activity.", code="not_registered")
    if participation.status in (PS.ATTENDED, PS.CONFIRMED):
        raise RuleViolation("Already checked in.", code="already_checked_in")
    now = utcnow()
    if not activity.starts_at - checkin.opens_before() <= now <= activity.ends_at:
        raise RuleViolation(
            "Check-in is open from 30 minutes before the start to the end.", code="check_in_closed"
        )
    if not checkin.code_is_valid(activity_id=activity.id, code=code, now=now):
        raise ValidationFailed(
            "Wrong or expired check-in code.",
            code="check_in_code_invalid",
            fields={"code": ["Wrong or expired code."]},
        )
    _move(participation, PS.ATTENDED)
    participation.attended_at = now
    db.session.flush()
    return participation


def get_participation(*, viewer: User, participation_id: str) -> Participation:
    """A participation: the citizen's own, or one of the staff's municipality."""
    return get_visible(
        Participation, participation_id, viewer, "participation_not_found", can_see_participation
    )


def list_activity_participations(
    *,
    activity: Activity,
    limit: int,
    cursor: str | None,
    status: ParticipationStatus | None = None,
) -> Page:
    """The participations of an activity (staff), newest first."""
    return list_page(
        Participation,
        # Each entry shows its citizen: one query for the page's users, not one per row.
        query=sa.select(Participation).options(selectinload(Participation.user)),
        filters={Participation.activity_id: activity.id, Participation.status: status},
        limit=limit,
        cursor=cursor,
    )


def default_hours(activity: Activity) -> float:
    """Hours credited when the official gives none: the duration, to the half hour, ≤ 8 a day."""
    hours = (activity.ends_at - activity.starts_at).total_seconds() / 3600
    cap = MAX_HOURS_PER_DAY * _seoul_days(activity.starts_at, activity.ends_at)
    return min(round(hours * 2) / 2, cap, MAX_HOURS)


def _confirm_one(
    participation: Participation, activity: Activity, *, actor: User, hours: float | None
) -> bool:
    """Confirm in memory; False when it already was (confirming twice changes nothing)."""
    if participation.status == PS.CONFIRMED:
        return False
    if participation.status not in (PS.REGISTERED, PS.ATTENDED):
        raise _illegal(participation, PS.CONFIRMED)
    if utcnow() < activity.starts_at:
        raise RuleViolation("The activity has not started yet.", code="activity_not_started")
    participation.status = PS.CONFIRMED
    participation.hours = float(hours if hours is not None else default_hours(activity))
    participation.decided_at = utcnow()
    participation.decided_by = actor.id
    return True


def _announce_confirmed(participation: Participation, activity: Activity, actor: User) -> None:
    save_and_audit(
        participation,
        actor=actor,
        action="participation.confirm",
        target_type="participation",
        details={
            "activity_id": activity.id,
            "user_id": participation.user_id,
            "hours": participation.hours,
        },
    )
    events.publish(
        events.PARTICIPATION_CONFIRMED,
        participation_id=participation.id,
        user_id=participation.user_id,
        municipality_id=participation.municipality_id,
        project_id=participation.project_id,
        activity_id=activity.id,
        stage=participation.stage.value,
        activity_kind=activity.kind.value,
        hours=float(participation.hours or 0.0),
        confirmed_at=participation.decided_at,
        actor_id=actor.id,
    )


def confirm_participation(
    *, actor: User, participation: Participation, hours: float | None = None
) -> Participation:
    """An official confirms a participation with its hours; the stage counters follow."""
    _ensure_manager(actor, participation)
    # Decided once: of 20 parallel confirmations one changes the row, the rest see it confirmed
    # (counters, hours and the notification follow only that one).
    participation = lock_row(Participation, participation)
    activity = participation.activity
    if not _confirm_one(participation, activity, actor=actor, hours=hours):
        return participation
    _bump_stage(participation.stage_id, confirmed=1, hours=participation.hours)
    _announce_confirmed(participation, activity, actor)
    db.session.flush()
    return participation


def confirm_activity_participations(
    *,
    actor: User,
    activity: Activity,
    hours: float | None = None,
    participation_ids: Sequence[str] | None = None,
) -> list[Participation]:
    """Confirm many at once: the listed ones, or every attended one; all or nothing."""
    _ensure_manager(actor, activity)
    # Locked in id order: two bulk confirmations (or a bulk and single ones) take the rows in
    # the same order and wait for each other instead of deadlocking.
    query = (
        sa.select(Participation)
        .where(Participation.activity_id == activity.id)
        .order_by(Participation.id)
    )
    if participation_ids is not None:
        wanted = list(dict.fromkeys(participation_ids))
        rows = list(
            db.session.scalars(
                read_for_update(query.where(Participation.id.in_(wanted)), of=Participation)
            )
        )
        missing = set(wanted) - {p.id for p in rows}
        if missing:
            raise NotFound(
                "Some participations are not in this activity.",
                code="participation_not_found",
                fields={"participation_ids": sorted(missing)},
            )
    else:
        rows = list(
            db.session.scalars(
                read_for_update(query.where(Participation.status == PS.ATTENDED), of=Participation)
            )
        )
    rows.sort(key=lambda p: p.id)
    changed = [p for p in rows if _confirm_one(p, activity, actor=actor, hours=hours)]
    if changed:
        _bump_stage(
            activity.stage_id, confirmed=len(changed), hours=sum(p.hours or 0.0 for p in changed)
        )
        for participation in changed:
            _announce_confirmed(participation, activity, actor)
        db.session.flush()
    return rows


def reject_participation(
    *, actor: User, participation: Participation, reason: str
) -> Participation:
    """An official rejects a participation (it frees its seat); rejecting twice is a no-op."""
    _ensure_manager(actor, participation)
    participation = lock_row(Participation, participation)
    if participation.status == PS.REJECTED:
        return participation
    _move(participation, PS.REJECTED)
    participation.rejection_reason = reason.strip()
    participation.decided_at = utcnow()
    participation.decided_by = actor.id
    _free_seat(participation.activity_id)
    save_and_audit(
        participation,
        actor=actor,
        action="participation.reject",
        target_type="participation",
        details={"activity_id": participation.activity_id, "reason": reason.strip()},
    )
    events.publish(
        events.PARTICIPATION_REJECTED,
        participation_id=participation.id,
        user_id=participation.user_id,
        municipality_id=participation.municipality_id,
        project_id=participation.project_id,
        activity_id=participation.activity_id,
        reason=participation.rejection_reason,
        actor_id=actor.id,
    )
    db.session.flush()
    return participation


def cancel_participation(*, actor: User, participation: Participation) -> Participation:
    """The citizen (or an official) cancels a registration before attending; frees the seat."""
    own = actor.id == participation.user_id
    if not own:
        _ensure_manager(actor, participation)
    participation = lock_row(Participation, participation)
    if participation.status == PS.CANCELLED:
        return participation
    _move(participation, PS.CANCELLED)
    _free_seat(participation.activity_id)
    if not own:
        save_and_audit(
            participation,
            actor=actor,
            action="participation.cancel",
            target_type="participation",
            details={"activity_id": participation.activity_id},
        )
    db.session.flush()
    return participation


def mark_no_show(*, actor: User, participation: Participation) -> Participation:
    """An official marks a registered citizen who never came, once the activity is over."""
    _ensure_manager(actor, participation)
    participation = lock_row(Participation, participation)
    if participation.status == PS.NO_SHOW:
        return participation
    if participation.status in TRANSITIONS and PS.NO_SHOW not in TRANSITIONS[participation.status]:
        raise _illegal(participation, PS.NO_SHOW)
    if utcnow() < participation.activity.ends_at:
        raise RuleViolation("The activity is not over yet.", code="activity_not_ended")
    _move(participation, PS.NO_SHOW)
    participation.decided_at = utcnow()
    participation.decided_by = actor.id
    _free_seat(participation.activity_id)
    save_and_audit(
        participation,
        actor=actor,
        action="participation.no_show",
        target_type="participation",
        details={"activity_id": participation.activity_id},
    )
    db.session.flush()
    return participation
