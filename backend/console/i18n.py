"""The console's words: Korean first, English on request (`?lang=en`, kept in a cookie)."""

from __future__ import annotations

from flask import request

from backend.api.messages import message_for

LANG_COOKIE = "console_lang"
LANGUAGES = ("ko", "en")

#: key: (Korean, English). Enum values are keyed "<enum>.<value>".
TEXTS: dict[str, tuple[str, str]] = {
    "app.name": ("공동생산 참여 콘솔", "Co-production console"),
    "nav.home": ("홈", "Home"),
    "nav.projects": ("사업", "Projects"),
    "nav.activities": ("활동", "Activities"),
    "nav.reports": ("보고서", "Reports"),
    "nav.meetings": ("회의", "Meetings"),
    "nav.main": ("주 메뉴", "Main menu"),
    "nav.skip": ("본문으로 건너뛰기", "Skip to content"),
    "lang.switch": ("English", "한국어"),
    "auth.login": ("로그인", "Log in"),
    "auth.logout": ("로그아웃", "Log out"),
    "auth.identifier": ("이메일 또는 휴대전화", "E-mail or phone"),
    "auth.password": ("비밀번호", "Password"),
    "auth.staff_only": (
        "콘솔은 직원 전용입니다. 시민은 앱을 이용해 주세요.",
        "The console is for staff; citizens use the app.",
    ),
    "auth.signed_in_as": ("로그인 사용자", "Signed in as"),
    "error.forbidden": ("이 화면을 볼 권한이 없습니다.", "You may not open this page."),
    "error.not_found": ("찾을 수 없습니다.", "Not found."),
    "error.csrf": (
        "화면이 만료되었습니다. 다시 시도해 주세요.",
        "The form expired; please try again.",
    ),
    "error.title": ("오류", "Error"),
    "home.title": ("오늘의 업무", "Today's work"),
    "home.role": ("역할", "Role"),
    "home.municipality": ("소속", "Municipality"),
    "home.national": ("전국 (행정안전부)", "National (Ministry)"),
    "common.save": ("저장", "Save"),
    "common.create": ("만들기", "Create"),
    "common.edit": ("수정", "Edit"),
    "common.next": ("다음 쪽", "Next page"),
    "common.first": ("처음으로", "First page"),
    "common.none": ("없음", "None"),
    "common.filter": ("조회", "Filter"),
    "common.all": ("전체", "All"),
    "common.saved": ("저장했습니다.", "Saved."),
    "common.actions": ("작업", "Actions"),
    "common.status": ("상태", "Status"),
    "common.title": ("제목", "Title"),
    "common.summary": ("요약", "Summary"),
    "common.description": ("설명", "Description"),
    "common.starts_on": ("시작일", "Starts on"),
    "common.ends_on": ("종료일", "Ends on"),
    "common.starts_at": ("시작 일시", "Starts at"),
    "common.ends_at": ("종료 일시", "Ends at"),
    "common.place": ("장소", "Place"),
    "common.capacity": ("정원", "Capacity"),
    "common.reason": ("사유", "Reason"),
    "common.hours": ("인정 시간", "Hours"),
    "common.year": ("연도", "Year"),
    "common.field": ("분야", "Field"),
    "common.stage": ("단계", "Stage"),
    "common.name": ("이름", "Name"),
    "common.count": ("건수", "Count"),
    "common.total": ("합계", "Total"),
    "common.date": ("날짜", "Date"),
    "common.back": ("돌아가기", "Back"),
    "form.errors": ("입력값을 확인해 주세요.", "Check the input."),
    "project.list": ("사업 목록", "Projects"),
    "project.new": ("새 사업", "New project"),
    "project.edit": ("사업 수정", "Edit project"),
    "project.visibility": ("공개 범위", "Visibility"),
    "project.timeline": ("단계별 진행", "Stage timeline"),
    "project.mode": ("참여 유형", "Mode"),
    "project.derived_mode": ("기록상 유형", "Derived mode"),
    "project.overridden": ("직권 지정", "Overridden"),
    "project.override": ("유형 직권 지정", "Override the mode"),
    "project.override_clear": ("기록상 유형으로 되돌리기", "Back to the derived mode"),
    "project.stage_dates": ("단계 일정 저장", "Save the stage"),
    "project.gov_work": ("행정 단독 업무", "Government work"),
    "project.gov_work_log": ("행정 업무 기록", "Log government work"),
    "project.performed_on": ("수행일", "Performed on"),
    "project.activities": ("활동", "Activities"),
    "project.counts": ("행정 업무 / 확정 참여", "Government work / confirmed"),
    "activity.new": ("새 활동", "New activity"),
    "activity.edit": ("활동 수정", "Edit activity"),
    "activity.kind": ("활동 종류", "Kind"),
    "activity.training_level": ("교육 과정", "Training level"),
    "activity.online_url": ("온라인 주소", "Online URL"),
    "activity.registered": ("신청", "Registered"),
    "activity.code": ("출석 코드 화면", "Check-in code screen"),
    "activity.code_title": ("출석 코드", "Check-in code"),
    "activity.code_help": (
        "앱에서 QR을 찍거나 숫자 6자리를 입력하세요.",
        "Scan the QR in the app or type the six digits.",
    ),
    "activity.code_expires": ("코드 변경 시각", "Next code at"),
    "activity.code_window": ("출석 가능 시간", "Check-in open"),
    "activity.participants": ("참여자", "Participants"),
    "activity.queue": ("출석 확인", "Attendance queue"),
    "activity.confirm": ("확정", "Confirm"),
    "activity.reject": ("반려", "Reject"),
    "activity.confirm_selected": ("선택 항목 확정", "Confirm the selected"),
    "activity.confirm_all_attended": ("출석자 모두 확정", "Confirm every attended"),
    "activity.walk_in": ("현장 참여자 추가", "Add a walk-in"),
    "activity.walk_in_user": ("시민 ID", "Citizen ID"),
    "activity.attended": ("출석함", "Attended"),
    "activity.confirmed_n": ("명을 확정했습니다.", "confirmed."),
    "activity.select": ("선택", "Select"),
    "activity.citizen": ("시민", "Citizen"),
    "report.title": ("단계별 공동생산 유형", "Co-production mode by stage"),
    "report.indicators": ("평가 지표", "Evaluation indicators"),
    "report.csv": ("CSV 내려받기", "Download CSV"),
    "report.projects": ("사업 수", "Projects"),
    "report.chart": ("단계별 유형 분포 (사업 수)", "Modes per stage (projects)"),
    "report.municipality": ("지자체", "Municipality"),
    "report.per_municipality": ("지자체별", "Per municipality"),
    "report.national_total": ("전국 합계", "National total"),
    "report.ordinance": ("조례", "Ordinance"),
    "report.department": ("전담부서", "Department"),
    "report.trainings": ("교육 (기본/심화)", "Trainings (basic/advanced)"),
    "report.trained": ("교육 이수자", "Trained"),
    "report.promotions": ("홍보", "Promotions"),
    "report.exchanges": ("교류", "Exchanges"),
    "report.satisfaction": ("주민 만족도", "Satisfaction"),
    "yes": ("예", "yes"),
    "no": ("아니오", "no"),
    "meeting.list": ("회의 목록", "Meetings"),
    "meeting.new": ("새 회의", "New meeting"),
    "meeting.committee": ("위원회", "Committee"),
    "meeting.agenda": ("안건", "Agenda"),
    "meeting.reserved_seats": ("우선 배정 좌석", "Reserved seats"),
    "meeting.priority_opens_at": ("우선 신청 시작", "Priority window opens"),
    "meeting.general_opens_at": ("일반 신청 시작", "General opening"),
    "meeting.registrations": ("신청 현황", "Registrations"),
    "meeting.tier": ("우선순위", "Tier"),
    "meeting.waitlist_position": ("대기 순번", "Waitlist place"),
    "meeting.door": ("오늘의 출입 명단", "Today's door list"),
    "meeting.checked_in": ("입장", "Checked in"),
    "meeting.check_in": ("입장 확인", "Check in"),
    "meeting.ticket": ("입장권 코드", "Ticket code"),
    "meeting.remind": ("알림 보내기", "Send a reminder"),
    "meeting.reminded": ("알림을 보냈습니다.", "Reminder sent."),
    "meeting.cancel": ("회의 취소", "Cancel the meeting"),
    "meeting.seats": ("좌석", "Seats"),
    "meeting.already": ("이미 입장한 입장권입니다.", "This ticket was already checked in."),
    "meeting.welcome": ("입장 확인되었습니다", "Checked in"),
    "meeting.upcoming": ("예정된 회의만", "Upcoming only"),
    "meeting.no_committee": ("먼저 위원회가 있어야 합니다.", "A committee is needed first."),
}

#: Labels of the enum values the pages show.
ENUM_TEXTS: dict[str, tuple[str, str]] = {
    "stage.plan": ("계획", "Plan"),
    "stage.decide": ("결정", "Decide"),
    "stage.implement": ("집행", "Implement"),
    "stage.evaluate": ("평가", "Evaluate"),
    "mode.government": ("정부독자적", "Government"),
    "mode.citizen": ("시민독자적", "Citizen"),
    "mode.joint": ("공동참여", "Joint"),
    "mode.unclear": ("불명확", "Unclear"),
    "project_status.draft": ("준비", "Draft"),
    "project_status.active": ("진행", "Active"),
    "project_status.completed": ("완료", "Completed"),
    "project_status.archived": ("보관", "Archived"),
    "stage_status.planned": ("예정", "Planned"),
    "stage_status.in_progress": ("진행 중", "In progress"),
    "stage_status.done": ("완료", "Done"),
    "visibility.public": ("공개", "Public"),
    "visibility.private": ("비공개", "Private"),
    "field.safety": ("안전", "Safety"),
    "field.youth": ("청년", "Youth"),
    "field.welfare": ("복지", "Welfare"),
    "field.environment": ("환경", "Environment"),
    "field.local_economy": ("지역경제", "Local economy"),
    "field.culture": ("문화", "Culture"),
    "field.health": ("보건", "Health"),
    "field.education": ("교육", "Education"),
    "field.transport": ("교통", "Transport"),
    "field.other": ("기타", "Other"),
    "kind.workshop": ("워크숍", "Workshop"),
    "kind.deliberation": ("숙의 토론", "Deliberation"),
    "kind.survey": ("설문", "Survey"),
    "kind.field_work": ("현장 활동", "Field work"),
    "kind.meeting": ("회의", "Meeting"),
    "kind.monitoring": ("모니터링", "Monitoring"),
    "kind.training": ("교육", "Training"),
    "level.basic": ("기본", "Basic"),
    "level.advanced": ("심화", "Advanced"),
    "participation.registered": ("신청", "Registered"),
    "participation.attended": ("출석", "Attended"),
    "participation.confirmed": ("확정", "Confirmed"),
    "participation.cancelled": ("취소", "Cancelled"),
    "participation.rejected": ("반려", "Rejected"),
    "participation.no_show": ("불참", "No-show"),
    "role.citizen": ("시민", "Citizen"),
    "role.official": ("공무원", "Official"),
    "role.verifier": ("확인자", "Verifier"),
    "role.scheduler": ("일정 담당", "Scheduler"),
    "role.analyst": ("행안부 분석관", "Ministry analyst"),
    "role.admin": ("관리자", "Admin"),
    "registration.confirmed": ("확정", "Confirmed"),
    "registration.waitlisted": ("대기", "Waitlisted"),
    "registration.cancelled": ("취소", "Cancelled"),
    "registration.checked_in": ("입장", "Checked in"),
    "meeting_status.scheduled": ("예정", "Scheduled"),
    "meeting_status.changed": ("변경됨", "Changed"),
    "meeting_status.cancelled": ("취소", "Cancelled"),
    "meeting_status.held": ("개최", "Held"),
    "tier.member": ("위원", "Member"),
    "tier.certified": ("인증 시민", "Certified"),
    "tier.general": ("일반", "General"),
}


def current_language() -> str:
    """`?lang=` if given, else the cookie, else Korean."""
    asked = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGUAGES else "ko"


def t(key: str) -> str:
    """The text of a key in the page's language (the key itself when missing, to spot it)."""
    pair = TEXTS.get(key) or ENUM_TEXTS.get(key)
    if pair is None:
        return key
    return pair[1] if current_language() == "en" else pair[0]


def label(kind: str, value: object) -> str:
    """The label of an enum value (`label("stage", Stage.PLAN)`)."""
    raw = getattr(value, "value", value)
    pair = ENUM_TEXTS.get(f"{kind}.{raw}")
    if pair is None:
        return str(raw)
    return pair[1] if current_language() == "en" else pair[0]


def error_text(code: str, fallback: str) -> str:
    """A domain error's message from the API's catalogue, in the page's language."""
    return message_for(code, fallback, english=current_language() == "en")
