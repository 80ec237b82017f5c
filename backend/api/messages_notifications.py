"""Error messages of the notifications domain: code -> (Korean, English)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "device_not_found": ("기기를 찾을 수 없습니다.", "Device not found."),
    "notification_not_found": ("알림을 찾을 수 없습니다.", "Notification not found."),
    "quiet_hours_invalid": (
        "방해 금지 시간은 시작과 끝을 모두, 서로 다르게 지정해 주세요.",
        "Quiet hours need both a start and an end, and they must differ.",
    ),
}
