"""Error messages of the participation domain and its reports: (Korean, English) by code."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # projects and stages
    "project_not_found": ("사업을 찾을 수 없습니다.", "Project not found."),
    "stage_not_found": (
        "단계를 찾을 수 없습니다. (plan, decide, implement, evaluate)",
        "No such stage (plan, decide, implement, evaluate).",
    ),
    "dates_out_of_order": ("종료일이 시작일보다 앞설 수 없습니다.", "The end is before the start."),
    "stage_outside_project": (
        "단계 기간은 사업 기간 안에 있어야 합니다.",
        "Stage dates must lie within the project's dates.",
    ),
    "activities_outside_dates": (
        "이 기간 밖에 있는 활동이 있습니다.",
        "Some activities would fall outside these dates.",
    ),
    "date_outside_project": (
        "날짜가 사업 기간 밖에 있습니다.",
        "The date lies outside the project's dates.",
    ),
    # activities
    "activity_not_found": ("활동을 찾을 수 없습니다.", "Activity not found."),
    "activity_outside_stage": (
        "활동 일정은 해당 단계의 기간 안에 있어야 합니다.",
        "The activity must lie within its stage's dates.",
    ),
    "training_level_required": (
        "교육에는 과정(기초 또는 심화)을 지정해야 합니다.",
        "A training needs a level (basic or advanced).",
    ),
    "training_level_not_allowed": (
        "교육이 아닌 활동에는 과정을 지정할 수 없습니다.",
        "Only trainings have a level.",
    ),
    "training_duration": (
        "기초과정은 1일, 심화과정은 2~3일입니다.",
        "A basic training lasts 1 day, an advanced one 2-3 days.",
    ),
    "capacity_below_registered": (
        "이미 신청한 인원보다 정원을 줄일 수 없습니다.",
        "More people have joined than this capacity.",
    ),
    # participations
    "participation_not_found": ("참여 기록을 찾을 수 없습니다.", "Participation not found."),
    "activity_full": ("정원이 가득 찼습니다.", "This activity is full."),
    "already_joined": (
        "이미 참여 신청한 활동입니다.",
        "You are already taking part in this activity.",
    ),
    "project_not_open": (
        "참여를 받고 있지 않은 사업입니다.",
        "The project is not open for participation.",
    ),
    "activity_ended": ("이미 끝난 활동입니다.", "The activity is over."),
    "activity_not_started": ("아직 시작하지 않은 활동입니다.", "The activity has not started yet."),
    "activity_not_ended": ("아직 끝나지 않은 활동입니다.", "The activity is not over yet."),
    "illegal_transition": (
        "현재 상태에서는 할 수 없는 처리입니다. 가능한 처리는 fields.status를 확인해 주세요.",
        "This participation cannot make that move; fields.status names the allowed ones.",
    ),
    "not_registered": ("참여 신청하지 않은 활동입니다.", "You have not joined this activity."),
    "already_checked_in": ("이미 출석 확인되었습니다.", "Already checked in."),
    "check_in_closed": (
        "출석 확인은 시작 30분 전부터 종료 시각까지 가능합니다.",
        "Check-in is open from 30 minutes before the start to the end.",
    ),
    "check_in_code_invalid": (
        "출석 코드가 올바르지 않거나 만료되었습니다.",
        "Wrong or expired check-in code.",
    ),
    # surveys
    "survey_not_found": ("설문을 찾을 수 없습니다.", "Survey not found."),
    "survey_exists": ("이미 설문이 있습니다.", "This already has a survey."),
    "survey_closed": ("마감된 설문입니다.", "This survey is closed."),
    "survey_not_participant": (
        "참여자만 응답할 수 있는 설문입니다.",
        "Only participants answer this survey.",
    ),
    "survey_already_answered": (
        "이미 응답한 설문입니다.",
        "You have already answered this survey.",
    ),
    "closes_in_past": ("마감 시각이 이미 지났습니다.", "The closing time is in the past."),
    # indicator records
    "channel_required": (
        "홍보 기록에는 홍보 매체를 지정해야 합니다.",
        "A promotion needs its channel.",
    ),
    "channel_not_allowed": (
        "홍보 기록에만 매체를 지정할 수 있습니다.",
        "Only promotions have a channel.",
    ),
    "partner_required": (
        "교류 기록에는 교류 대상을 지정해야 합니다.",
        "An exchange needs its partner.",
    ),
    "partner_not_allowed": (
        "교류 기록에만 교류 대상을 지정할 수 있습니다.",
        "Only exchanges have a partner.",
    ),
}
