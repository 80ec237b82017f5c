"""Participation: satisfaction surveys and their responses."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from backend.audit.services import save_and_audit
from backend.clock import utcnow
from backend.errors import (
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from backend.extensions import db
from backend.identity.models import User
from backend.pagination import Page
from backend.participation.models import (
    Activity,
    Participation,
    Project,
    Survey,
    SurveyResponse,
)
from backend.participation.projects import get_project
from backend.participation.shared import _SURVEY_COUNTERS, PS, _ensure_manager, _expire_cached
from backend.rows import list_page

# ---- surveys --------------------------------------------------------------------------------


def create_survey(
    *,
    actor: User,
    project: Project,
    title: str,
    activity_id: str | None = None,
    closes_at: datetime | None = None,
) -> Survey:
    """An official opens the satisfaction survey of a project or of one of its activities."""
    _ensure_manager(actor, project)
    if activity_id is not None:
        activity = db.session.get(Activity, activity_id)
        if activity is None or activity.project_id != project.id:
            raise NotFound(
                "Activity not found in this project.",
                code="activity_not_found",
                fields={"activity_id": ["Not an activity of this project."]},
            )
    target = activity_id or project.id
    if db.session.scalar(sa.select(Survey.id).where(Survey.target_key == target)):
        raise RuleViolation("This already has a survey.", code="survey_exists")
    if closes_at is not None and closes_at <= utcnow():
        raise ValidationFailed(
            "The closing time is in the past.",
            code="closes_in_past",
            fields={"closes_at": ["Must be in the future."]},
        )
    survey = Survey(
        municipality_id=project.municipality_id,
        project_id=project.id,
        activity_id=activity_id,
        target_key=target,
        title=title.strip(),
        closes_at=closes_at,
        created_by=actor.id,
    )
    save_and_audit(
        survey,
        actor=actor,
        action="survey.create",
        target_type="survey",
        details={"project_id": project.id, "activity_id": activity_id},
    )
    return survey


def get_survey(*, viewer: User, survey_id: str) -> Survey:
    """A survey of a project the viewer may see."""
    survey = db.session.get(Survey, survey_id)
    if survey is not None:
        try:
            get_project(viewer=viewer, project_id=survey.project_id)
        except NotFound:
            survey = None
    if survey is None:
        raise NotFound("Survey not found.", code="survey_not_found")
    return survey


def list_project_surveys(*, project: Project, limit: int, cursor: str | None) -> Page:
    """The surveys of a project (its own and its activities'), newest first."""
    return list_page(Survey, filters={Survey.project_id: project.id}, limit=limit, cursor=cursor)


def answer_survey(*, actor: User, survey: Survey, rating: int, comment: str = "") -> SurveyResponse:
    """A participant answers once (1-5 and a comment); the survey's aggregates follow."""
    if survey.closes_at is not None and utcnow() >= survey.closes_at:
        raise RuleViolation("This survey is closed.", code="survey_closed")
    took_part = (
        sa.select(Participation.id)
        .where(
            Participation.user_id == actor.id,
            Participation.status.in_((PS.ATTENDED, PS.CONFIRMED)),
            (Participation.activity_id == survey.activity_id)
            if survey.activity_id
            else (Participation.project_id == survey.project_id),
        )
        .limit(1)
    )
    if db.session.scalar(took_part) is None:
        raise PermissionDenied(
            "Only participants answer this survey.", code="survey_not_participant"
        )
    if db.session.scalar(
        sa.select(SurveyResponse.id).where(
            SurveyResponse.survey_id == survey.id, SurveyResponse.user_id == actor.id
        )
    ):
        raise RuleViolation(
            "You have already answered this survey.", code="survey_already_answered"
        )
    response = SurveyResponse(
        survey_id=survey.id, user_id=actor.id, rating=rating, comment=comment.strip()
    )
    db.session.add(response)
    db.session.flush()
    table = Survey.__table__
    bucket = f"rating_{rating}"
    db.session.execute(
        sa.update(table)
        .where(table.c.id == survey.id)
        .values(
            {
                table.c.response_count: table.c.response_count + 1,
                table.c.rating_sum: table.c.rating_sum + rating,
                table.c[bucket]: table.c[bucket] + 1,
            }
        )
    )
    _expire_cached(Survey, survey.id, _SURVEY_COUNTERS)
    return response


def list_survey_responses(*, survey: Survey, limit: int, cursor: str | None) -> Page:
    """Answers to a survey with their comments (staff), newest first."""
    return list_page(
        SurveyResponse, filters={SurveyResponse.survey_id: survey.id}, limit=limit, cursor=cursor
    )
