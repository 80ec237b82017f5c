"""Error messages of the personal-data domain: code -> (Korean, English)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "consent_invalid": (
        "동의 항목을 확인해 주세요. 필수 항목에 동의하고 최신 안내문 버전으로 보내야 합니다.",
        "Consent is missing or refers to an old text.",
    ),
    "consent_not_found": ("동의 항목을 찾을 수 없습니다.", "No such consent purpose."),
    "consent_required": (
        "필수 동의는 철회할 수 없습니다. 회원 탈퇴를 이용해 주세요.",
        "A required consent is withdrawn by deleting the account.",
    ),
    "consent_missing": (
        "프로그램 안내 알림 수신에 먼저 동의해 주세요.",
        "Consent to programme announcements first.",
    ),
    "guardian_consent_required": (
        "만 14세 미만은 법정대리인 동의가 확인된 후 이용할 수 있습니다.",
        "A legal guardian's consent is needed first.",
    ),
    "reason_required": (
        "개인정보를 내려받으려면 사유를 입력해야 합니다.",
        "Give a reason to download personal data.",
    ),
    "export_not_found": ("내려받기 파일을 찾을 수 없습니다.", "Export not found."),
    "export_not_ready": (
        "아직 파일을 만들고 있습니다. 잠시 후 다시 시도해 주세요.",
        "The export is not ready yet.",
    ),
    "export_expired": (
        "내려받기 기간이 지났습니다. 다시 요청해 주세요.",
        "The export has expired; ask for a new one.",
    ),
    "field_not_self_editable": (
        "이 항목은 직접 수정할 수 없습니다. 소속 지자체 담당자에게 요청해 주세요.",
        "This cannot be changed here; ask your municipality.",
    ),
    "assurance_level_required": (
        "본인확인이 필요합니다. 본인확인 후 다시 시도해 주세요.",
        "A stronger identity check is needed first.",
    ),
}
