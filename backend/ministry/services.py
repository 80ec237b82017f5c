"""Ministry services: selected cases, follow-ups and funding; the mediation committee and
dispute cases; training courses, enrolments, attendance, completion and ratings.

Keyword-only arguments, the actor passed in, flush and never commit; every change is audited,
and every step of a dispute is announced to its parties with a domain event.

The services live in sub-modules named after what they hold; this module re-exports their
public names, so `from backend.ministry.services import X` keeps working.
"""

from __future__ import annotations

from backend.ministry.courses import (
    complete_enrolment,
    create_course,
    enrol,
    get_course,
    get_enrolment,
    list_course_enrolments,
    list_courses,
    rate_enrolment,
    record_attendance,
    training_record,
)
from backend.ministry.disputes import (
    DS,
    OPEN_STATES,
    accept_dispute,
    assign_mediator,
    close_unsettled,
    file_dispute,
    get_dispute,
    list_disputes,
    reject_dispute,
    remind_deadlines,
    schedule_hearing,
    settle_dispute,
    start_mediation,
    withdraw_dispute,
)
from backend.ministry.mediation_committee import (
    add_committee_member,
    committee_members,
    committee_user_ids,
    end_committee_member,
)
from backend.ministry.selected_cases import (
    CaseTrend,
    FollowUpReport,
    add_case_funding,
    create_follow_up,
    create_selected_case,
    follow_up_report,
    get_selected_case,
    list_case_fundings,
    list_follow_ups,
    list_selected_cases,
    update_selected_case,
)
from backend.ministry.shared import (
    DEFAULT_DEADLINE_DAYS,
    FIRST_CONTEST_YEAR,
    PRACTITIONER_MIN_YEARS,
)

__all__ = [
    "FIRST_CONTEST_YEAR",
    "DEFAULT_DEADLINE_DAYS",
    "PRACTITIONER_MIN_YEARS",
    "create_selected_case",
    "get_selected_case",
    "list_selected_cases",
    "update_selected_case",
    "add_case_funding",
    "list_case_fundings",
    "create_follow_up",
    "list_follow_ups",
    "CaseTrend",
    "FollowUpReport",
    "follow_up_report",
    "committee_members",
    "committee_user_ids",
    "add_committee_member",
    "end_committee_member",
    "DS",
    "OPEN_STATES",
    "file_dispute",
    "get_dispute",
    "list_disputes",
    "accept_dispute",
    "reject_dispute",
    "start_mediation",
    "settle_dispute",
    "close_unsettled",
    "withdraw_dispute",
    "assign_mediator",
    "schedule_hearing",
    "remind_deadlines",
    "create_course",
    "get_course",
    "list_courses",
    "enrol",
    "get_enrolment",
    "list_course_enrolments",
    "record_attendance",
    "complete_enrolment",
    "rate_enrolment",
    "training_record",
]
