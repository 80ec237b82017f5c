"""Error messages of the ministry's side (good cases, mediation, courses): (Korean, English)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # selected cases and follow-ups
    "selected_case_not_found": ("우수사례를 찾을 수 없습니다.", "Selected case not found."),
    "case_exists": (
        "이 사업은 해당 연도의 우수사례로 이미 선정되었습니다.",
        "The project is already a selected case of that year.",
    ),
    "project_is_draft": (
        "작성 중인 사업은 우수사례로 선정할 수 없습니다.",
        "A draft project cannot be a selected case.",
    ),
    "contest_year_invalid": ("선정 연도가 올바르지 않습니다.", "The contest year is not valid."),
    "funding_year_invalid": (
        "예산지원 연도는 선정 연도 이후여야 합니다.",
        "Funding cannot precede the selection.",
    ),
    "follow_up_exists": (
        "해당 연도의 사후관리 기록이 이미 있습니다.",
        "The case already has a follow-up for that year.",
    ),
    "follow_up_year_invalid": (
        "사후관리는 선정 다음 해부터 올해까지만 기록할 수 있습니다.",
        "Follow-ups are for the years after the selection, up to this year.",
    ),
    "follow_up_value_known": (
        "플랫폼에 이미 있는 값입니다. 입력하지 마세요.",
        "The platform already has this value; leave it out.",
    ),
    # the mediation committee
    "mediation_member_not_found": (
        "분쟁조정위원을 찾을 수 없습니다.",
        "Committee member not found.",
    ),
    "qualification_unmet": (
        "분쟁조정위원 자격 요건을 충족하지 않습니다.",
        "The person does not meet the member qualification.",
    ),
    "chair_taken": ("위원장이 이미 있습니다.", "The committee already has a chair."),
    "member_exists": (
        "이미 위원으로 활동 중입니다.",
        "The person already serves on the committee.",
    ),
    "member_ended": ("이미 임기가 끝난 위원입니다.", "The membership has ended already."),
    # dispute cases
    "dispute_not_found": ("분쟁 사건을 찾을 수 없습니다.", "Dispute not found."),
    "dispute_illegal_transition": (
        "현재 상태에서는 할 수 없는 처리입니다. 가능한 처리는 fields.state를 확인해 주세요.",
        "The case cannot make that move; fields.state names the allowed ones.",
    ),
    "dispute_not_open": (
        "접수되었거나 조정 중인 사건에만 할 수 있습니다.",
        "Only an accepted case or one in mediation can take this.",
    ),
    "party_invalid": (
        "당사자는 해당 지자체의 시민이어야 합니다.",
        "Partners must be citizens of the project's municipality.",
    ),
    "party_missing": (
        "상대방 민간 당사자를 입력해 주세요.",
        "Name the private partner the case is against.",
    ),
    "deadline_invalid": ("기한은 오늘 이후여야 합니다.", "The deadline must be in the future."),
    "mediator_required": ("조정위원을 먼저 지정해 주세요.", "Assign a mediator first."),
    "mediator_is_party": (
        "사건의 당사자는 조정위원이 될 수 없습니다.",
        "A party to the case cannot mediate it.",
    ),
    "mediator_exists": (
        "이미 이 사건의 조정위원입니다.",
        "The member already mediates this case.",
    ),
    "hearing_times_invalid": (
        "조정회의 일시가 올바르지 않습니다.",
        "The hearing times are not valid.",
    ),
    # training courses
    "course_not_found": ("교육과정을 찾을 수 없습니다.", "Course not found."),
    "course_schedule_invalid": (
        "기초과정은 상반기 1일, 심화과정은 하반기 2-3일입니다.",
        "Basic courses last 1 day (January-June), advanced 2-3 days (July-December).",
    ),
    "course_region_invalid": (
        "권역별 교육은 권역을 입력하고, 행정안전부 교육은 비워 두세요.",
        "A regional course names its region; a ministry course does not.",
    ),
    "course_full": ("교육 정원이 찼습니다.", "The course is full."),
    "already_enrolled": ("이미 신청한 교육입니다.", "You are enrolled already."),
    "course_started": ("이미 시작한 교육입니다.", "The course has started."),
    "course_audience_mismatch": (
        "신청 대상이 아닌 교육입니다.",
        "This course is for another audience.",
    ),
    "enrolment_not_found": ("수강 신청을 찾을 수 없습니다.", "Enrolment not found."),
    "course_day_invalid": ("교육 일차가 올바르지 않습니다.", "No such day of the course."),
    "course_day_ahead": (
        "아직 진행되지 않은 교육 일차입니다.",
        "That day of the course has not come yet.",
    ),
    "enrolment_completed": ("이미 수료한 교육입니다.", "The enrolment is completed."),
    "attendance_incomplete": (
        "출석하지 않은 일차가 있어 수료할 수 없습니다.",
        "Attendance is missing for some days.",
    ),
    "enrolment_not_completed": (
        "수료 후에 만족도를 평가할 수 있습니다.",
        "Rate the course once completed.",
    ),
    "already_rated": ("이미 평가한 교육입니다.", "You rated this course already."),
}
