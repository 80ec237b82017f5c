"""Participation: committee meeting attendance recorded as participations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from backend import events
from backend.audit.services import save_and_audit
from backend.clock import utcnow
from backend.extensions import db
from backend.identity.models import User
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
    project = db.session.get(Project, project_id)
    citizen = db.session.get(User, user_id)
    if (
        project is None
        or project.municipality_id != municipality_id
        or citizen is None
        or citizen.role != Role.CITIZEN
    ):
        return None
    stage_row = db.session.scalar(
        sa.select(ProjectStage).where(
            ProjectStage.project_id == project.id, ProjectStage.stage == Stage(stage)
        )
    )
    source_key = f"meeting:{meeting_id}"
    activity = db.session.scalar(sa.select(Activity).where(Activity.source_key == source_key))
    if activity is None:
        # The meeting happened: it is recorded as it was, not checked against the stage dates.
        activity = Activity(
            municipality_id=project.municipality_id,
            project_id=project.id,
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
        activity.project = project
        db.session.add(activity)
        db.session.flush()
    participation = _existing(activity.id, user_id)
    if participation is None:
        _take_seat(activity)
        participation = _new_participation(
            activity, user_id, recorded_by=actor_id, status=PS.ATTENDED
        )
    elif participation.status not in (PS.REGISTERED, PS.ATTENDED):
        return participation  # confirmed already (a second delivery), or decided otherwise
    actor = db.session.get(User, actor_id) if actor_id else None
    participation.status = PS.CONFIRMED
    participation.hours = default_hours(activity)
    participation.decided_at = utcnow()
    participation.decided_by = actor_id
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
        project_id=project.id,
        activity_id=activity.id,
        stage=stage_row.stage.value,
        activity_kind=ActivityKind.MEETING.value,
        hours=float(participation.hours),
        confirmed_at=participation.decided_at,
        actor_id=actor_id,
    )
    return participation
