"""Error messages of the committees domain (committees, appointments, meetings, registrations)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # code: (Korean, English)
    "committee_not_found": ("위원회를 찾을 수 없습니다.", "Committee not found."),
    "appointment_not_found": ("위촉 정보를 찾을 수 없습니다.", "Appointment not found."),
    "meeting_not_found": ("회의를 찾을 수 없습니다.", "Meeting not found."),
    "registration_not_found": ("회의 신청 내역을 찾을 수 없습니다.", "Registration not found."),
    "calendar_feed_not_found": ("캘린더 주소를 찾을 수 없습니다.", "Calendar feed not found."),
    # appointments
    "appointee_not_citizen": (
        "시민위원으로는 시민만 위촉할 수 있습니다.",
        "Only citizens are appointed to citizen committees.",
    ),
    "term_invalid": ("임기 종료일이 시작일보다 앞섭니다.", "The term ends before it starts."),
    "term_too_long": (
        "위원회가 정한 임기보다 깁니다.",
        "The term is longer than the committee's term length.",
    ),
    "term_in_past": ("이미 끝난 임기입니다.", "The term is already over."),
    "appointment_overlaps": (
        "같은 위원회에서 임기가 겹치는 위촉이 이미 있습니다.",
        "This person already holds an overlapping term on this committee.",
    ),
    "role_taken": (
        "해당 기간에 이미 같은 직위(위원장 또는 부위원장)를 맡은 위원이 있습니다.",
        "The committee already has a chair or vice-chair for that time.",
    ),
    "committee_full": ("위원회 정원이 모두 찼습니다.", "Every seat of the committee is taken."),
    "certificate_required": (
        "이 위원회의 위원은 임기 시작일에 유효한 모범시민증이 있어야 합니다.",
        "Members of this committee must hold an active model-citizen certificate.",
    ),
    "appointment_dismissed": ("이미 해촉된 위촉입니다.", "This appointment was dismissed."),
    "appointment_ended": ("이미 임기가 끝났습니다.", "This term is already over."),
    # meetings
    "meeting_times_invalid": (
        "회의 종료 시각은 시작 시각보다 뒤여야 합니다.",
        "The meeting must end after it starts.",
    ),
    "registration_windows_invalid": (
        "신청 시작 시각의 순서가 올바르지 않습니다 (우선 신청 ≤ 일반 신청 < 회의 시작).",
        "Registration times are out of order (priority <= general < start).",
    ),
    "reserved_seats_exceed_capacity": (
        "위원 전용 좌석 수가 전체 정원보다 많습니다.",
        "Reserved seats exceed the capacity.",
    ),
    "meeting_location_required": (
        "회의 장소나 온라인 링크를 입력해 주세요.",
        "Give a place or an online link.",
    ),
    "meeting_in_past": (
        "회의 시작 시각이 이미 지났습니다.",
        "The meeting would start in the past.",
    ),
    "meeting_not_editable": (
        "취소되었거나 이미 열린 회의는 변경할 수 없습니다.",
        "A cancelled or held meeting cannot be changed.",
    ),
    "meeting_cancelled": ("취소된 회의입니다.", "The meeting was cancelled."),
    "meeting_not_started": ("회의가 아직 시작되지 않았습니다.", "The meeting has not started yet."),
    "capacity_below_confirmed": (
        "이미 확정된 신청자 수보다 정원을 줄일 수 없습니다.",
        "Capacity cannot go below the confirmed registrations.",
    ),
    "reserved_seats_taken": (
        "일반 신청자가 이미 차지한 좌석을 위원 전용으로 바꿀 수 없습니다.",
        "Non-members already hold more seats than would stay unreserved.",
    ),
    "meeting_started": ("이미 시작된 회의입니다.", "The meeting has already begun."),
    # registrations and check-in
    "registration_not_open": ("아직 신청 기간이 아닙니다.", "Registration has not opened yet."),
    "registration_priority_only": (
        "지금은 위원과 모범시민만 우선 신청할 수 있습니다.",
        "Only committee members and certified model citizens may register now.",
    ),
    "registration_closed": ("신청이 마감되었습니다.", "Registration has closed."),
    "already_registered": ("이미 신청한 회의입니다.", "You are already registered."),
    "registration_cancelled": ("취소된 신청입니다.", "The registration was cancelled."),
    "registration_checked_in": (
        "이미 입장 확인된 신청은 취소할 수 없습니다.",
        "The attendee has already checked in.",
    ),
    "registration_not_confirmed": (
        "대기 중인 신청으로는 입장할 수 없습니다.",
        "The registration is on the waitlist.",
    ),
    "ticket_invalid": ("유효하지 않은 입장권입니다.", "This is not a valid ticket."),
    "ticket_wrong_meeting": ("다른 회의의 입장권입니다.", "This ticket is for another meeting."),
    "check_in_not_open": (
        "입장 확인은 회의 시작 2시간 전부터 종료 2시간 후까지 가능합니다.",
        "Check-in is open from two hours before the start to two hours after the end.",
    ),
    "scan_id_reused": (
        "이 스캔 번호는 다른 회의에서 이미 쓰였습니다.",
        "A scan id was already used for another meeting.",
    ),
}
