"""Participation services: projects and stages, government work, activities, check-in,
participations and their state machine, satisfaction surveys and indicator records.

Every service takes keyword arguments, is told who acts, flushes and never commits. State
changes that move a stage's counters update them here, in the same transaction, with one
atomic UPDATE (safe under concurrent writers), so the reports read counters, not history.

The services live in sub-modules named after what they hold; this module re-exports their
public names, so `from backend.participation.services import X` keeps working.
"""

from __future__ import annotations

from backend.participation.activities import (
    create_activity,
    get_activity,
    get_check_in_code,
    list_activities,
    update_activity,
)
from backend.participation.attendance import (
    record_meeting_attendance,
)
from backend.participation.history import (
    ParticipationStats,
    ParticipationSummary,
    StageSummary,
    confirmed_participation_stats,
    list_my_participations,
    list_participant_ids,
    participation_summary,
)
from backend.participation.indicators import (
    list_indicator_records,
    record_indicator,
)
from backend.participation.participations import (
    CITIZEN_AND_RECORD,
    RECORDABLE_PROJECTS,
    cancel_participation,
    check_in,
    confirm_activity_participations,
    confirm_participation,
    default_hours,
    get_participation,
    join_activity,
    list_activity_participations,
    mark_no_show,
    participation_row,
    participation_row_of,
    record_participation,
    recordable_citizen,
    recorded_payload,
    reject_participation,
)
from backend.participation.projects import (
    create_project,
    get_project,
    get_stage,
    list_government_work,
    list_projects,
    log_government_work,
    override_stage_mode,
    project_with_stages,
    update_project,
    update_stage,
)
from backend.participation.shared import (
    INSERT_PARTICIPATION,
    MAX_HOURS,
    MAX_HOURS_PER_DAY,
    PS,
    PUBLISHED,
    TAKE_SEAT,
    TRANSITIONS,
    _take_seat,
    derive_mode,
)
from backend.participation.surveys import (
    answer_survey,
    create_survey,
    get_survey,
    list_project_surveys,
    list_survey_responses,
)

__all__ = [
    "PS",
    "PUBLISHED",
    "TRANSITIONS",
    "MAX_HOURS",
    "MAX_HOURS_PER_DAY",
    "derive_mode",
    "TAKE_SEAT",
    "INSERT_PARTICIPATION",
    "_take_seat",
    "create_project",
    "get_project",
    "list_projects",
    "update_project",
    "get_stage",
    "update_stage",
    "override_stage_mode",
    "log_government_work",
    "list_government_work",
    "project_with_stages",
    "create_activity",
    "get_activity",
    "list_activities",
    "update_activity",
    "get_check_in_code",
    "participation_row_of",
    "participation_row",
    "join_activity",
    "CITIZEN_AND_RECORD",
    "RECORDABLE_PROJECTS",
    "recordable_citizen",
    "record_participation",
    "recorded_payload",
    "check_in",
    "get_participation",
    "list_activity_participations",
    "default_hours",
    "confirm_participation",
    "confirm_activity_participations",
    "reject_participation",
    "cancel_participation",
    "mark_no_show",
    "record_meeting_attendance",
    "list_my_participations",
    "StageSummary",
    "ParticipationSummary",
    "participation_summary",
    "ParticipationStats",
    "confirmed_participation_stats",
    "list_participant_ids",
    "create_survey",
    "get_survey",
    "list_project_surveys",
    "answer_survey",
    "list_survey_responses",
    "record_indicator",
    "list_indicator_records",
]
