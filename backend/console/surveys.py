"""Satisfaction surveys of a project and its activities, with their results and comments."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import request

from backend.api import participation as api
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.forms import submit
from backend.console.pages import done, page, page_args
from backend.participation import services
from backend.participation.schemas import SurveyCreateSchema


def _surveys_page(project_id: str, status: int = 200, **context: Any) -> Any:
    viewer = current_user()
    project = services.get_project(viewer=viewer, project_id=project_id)
    surveys = services.list_project_surveys(project=project, **page_args())
    activities = services.list_activities(
        viewer=viewer, project_id=project.id, limit=100, cursor=None
    ).items
    return page(
        "surveys.html",
        status,
        project=project,
        surveys=surveys,
        activities=activities,
        form=request.form,
        **context,
    )


@bp.route("/projects/<project_id>/surveys")
@mirrors(api.list_project_surveys, api.list_survey_responses)
def surveys(project_id: str) -> Any:
    """A project's surveys with their results (count, mean, distribution)."""
    return _surveys_page(project_id)


@bp.route("/projects/<project_id>/surveys", methods=["POST"])
@mirrors(api.create_survey)
def survey_new(project_id: str) -> Any:
    """Open the survey of the project, or of one of its activities."""
    actor = current_user()
    project = services.get_project(viewer=actor, project_id=project_id)
    saved, errors = submit(
        SurveyCreateSchema(),
        partial(services.create_survey, actor=actor, project=project),
        lambda _: done("console.surveys", project_id=project_id),
    )
    return saved or _surveys_page(project_id, 422, errors=errors)


@bp.route("/surveys/<survey_id>")
@mirrors(api.list_survey_responses)
def survey(survey_id: str) -> Any:
    """A survey's answers with their comments, newest first."""
    survey = services.get_survey(viewer=current_user(), survey_id=survey_id)
    responses = services.list_survey_responses(survey=survey, **page_args())
    return page("survey.html", survey=survey, responses=responses)
