"""Participation: committee meeting attendance recorded as participations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from backend import events
from backend.audit.services import save_and_audit
from backend.clock import utcnow
from backend.database import insert_or_nothing
from backend.extensions import db
from backend.identity.models import User
from backend.ids import new_id
from backend.participation.models import (
    Activity,
    ActivityKind,
    Participation,
    Project,
    ProjectStage,
    Stage,
)
from backend.participation.participations import _existing, _new_participation, default_hours
from backend.participation.shared import PS, _bump_stage, _take_seat
from backend.permissions import (
    Role,
)


def _meeting_activity(source_key: str) -> Activity | None:
    return db.session.scalar(
        sa.select(Activity)
        .where(Activity.source_key == source_key)
        .execution_options(populate_existing=True)
    )


def _stage_activity_and_record(
    *, project_id: str, municipality_id: str, stage: Stage, source_key: str, user_id: str
) -> tuple[ProjectStage, Activity | None, Participation | None] | None:
    """The project's stage (when the project is the municipality's), the meeting's activity
    if made already, and the attendee's record there if any: one round trip on every scan."""
    row = db.session.execute(
        sa.select(ProjectStage, Activity, Participation)
        .join(Project, Project.id == ProjectStage.project_id)
        .outerjoin(Activity, Activity.source_key == source_key)
        .outerjoin(
            Participation,
            sa.and_(Participation.activity_id == Activity.id, Participation.user_id == user_id),
        )
        .where(
            ProjectStage.project_id == project_id,
            ProjectStage.stage == stage,
            Project.municipality_id == municipality_id,
        )
        # No eager joins: an activity's inner-joined project would drop the row of a meeting
        # whose activity is not made yet.
        .options(lazyload("*"))
        .execution_options(populate_existing=True)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def record_meeting_attendance(
    *,
    meeting_id: str,
    user_id: str,
    municipality_id: str,
    project_id: str | None,
    stage: str | None,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    actor_id: str | None,
    **_payload: Any,
) -> Participation | None:
    """MEETING_ATTENDED: a checked-in meeting of a project's stage becomes a confirmed
    participation there (its activity, kind `meeting`, is made once per meeting)."""
    if project_id is None or stage is None:
        return None
    citizen = db.session.get(User, user_id)
    if citizen is None or citizen.role != Role.CITIZEN:
        return None
    source_key = f"meeting:{meeting_id}"
    found = _stage_activity_and_record(
        project_id=project_id,
        municipality_id=municipality_id,
        stage=Stage(stage),
        source_key=source_key,
        user_id=user_id,
    )
    if found is None:
        return None  # no such project in this municipality
    stage_row, activity, participation = found
    if activity is None:
        # Insert-or-get: the first tickets of a meeting may be scanned at the same moment on
        # two workers; both insert, one row wins, and both scans go on with that row.
        # The meeting happened: it is recorded as it was, not checked against the stage dates.
        db.session.execute(
            insert_or_nothing(Activity.__table__)
            .values(
                id=new_id(),
                municipality_id=municipality_id,
                project_id=project_id,
                stage_id=stage_row.id,
                stage=stage_row.stage,
                kind=ActivityKind.MEETING,
                title=title[:200],
                starts_at=starts_at,
                ends_at=ends_at,
                registered_count=0,
                source_key=source_key,
                created_by=actor_id,
            )
            .on_conflict_do_nothing(index_elements=["source_key"])
        )
        activity = _meeting_activity(source_key)
        participation = _existing(activity.id, user_id)
    actor = db.session.get(User, actor_id) if actor_id else None
    now = utcnow()
    decided = {
        "status": PS.CONFIRMED,
        "hours": default_hours(activity),
        "decided_at": now,
        "decided_by": actor_id,
    }
    if participation is None:
        # Made confirmed: one INSERT, no second write of the row it just made.
        _take_seat(activity)
        participation = _new_participation(
            activity, user_id, recorded_by=actor_id, status=PS.ATTENDED, decided=decided
        )
    elif participation.status not in (PS.REGISTERED, PS.ATTENDED):
        return participation  # confirmed already (a second delivery), or decided otherwise
    else:
        for column, value in decided.items():
            setattr(participation, column, value)
        db.session.flush()
    _bump_stage(stage_row.id, confirmed=1, hours=participation.hours)
    save_and_audit(
        participation,
        actor=actor,
        action="participation.confirm",
        target_type="participation",
        details={
            "activity_id": activity.id,
            "user_id": user_id,
            "hours": participation.hours,
            "meeting_id": meeting_id,
        },
    )
    events.publish(
        events.PARTICIPATION_CONFIRMED,
        participation_id=participation.id,
        user_id=user_id,
        municipality_id=participation.municipality_id,
        project_id=project_id,
        activity_id=activity.id,
        stage=stage_row.stage.value,
        activity_kind=ActivityKind.MEETING.value,
        hours=float(participation.hours),
        confirmed_at=participation.decided_at,
        actor_id=actor_id,
    )
    return participation
