"""People-facing error messages by stable code: Korean by default, English on request.

Domain code raises with an English message; this catalogue gives the Korean (and the
canonical English) text, so the app can show either without knowing the code.
"""

from __future__ import annotations

from backend.api import (
    messages_certification,
    messages_committees,
    messages_ministry,
    messages_notifications,
    messages_participation,
    messages_privacy,
)

CORE_MESSAGES: dict[str, tuple[str, str]] = {
    # code: (Korean, English)
    "error": ("요청을 처리할 수 없습니다.", "The request could not be processed."),
    "validation_failed": ("입력값을 확인해 주세요.", "Check the input."),
    "malformed_json": ("JSON 형식이 올바르지 않습니다.", "The body is not valid JSON."),
    "bad_request": ("잘못된 요청입니다.", "Bad request."),
    "not_found": ("찾을 수 없습니다.", "Not found."),
    "method_not_allowed": ("허용되지 않는 메서드입니다.", "Method not allowed."),
    "payload_too_large": ("요청 본문이 너무 큽니다.", "The request body is too large."),
    "unsupported_media_type": ("지원하지 않는 형식입니다.", "Unsupported media type."),
    "not_acceptable": ("요청한 형식으로 응답할 수 없습니다.", "Cannot answer in that format."),
    "internal_error": ("서버 오류가 발생했습니다.", "Internal server error."),
    "conflict": ("현재 상태와 충돌합니다.", "The request conflicts with the current state."),
    "rule_violation": ("규칙에 어긋나는 요청입니다.", "The request breaks a rule."),
    "permission_denied": ("권한이 없습니다.", "You are not allowed to do this."),
    "unauthenticated": ("로그인이 필요합니다.", "Authentication required."),
    "rate_limited": (
        "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
        "Too many requests; try again later.",
    ),
    "json_too_deep": (
        "JSON이 너무 깊게 중첩되어 있습니다.",
        "The JSON body nests too deeply.",
    ),
    # the database is unreachable (the app), or no API server answers in time (the proxy,
    # deploy/nginx/errors/*.json)
    "service_unavailable": (
        "서비스를 잠시 사용할 수 없습니다. 잠시 후 다시 시도해 주세요.",
        "The service is briefly unavailable; try again shortly.",
    ),
    "gateway_timeout": (
        "서버 응답이 지연되고 있습니다. 잠시 후 다시 시도해 주세요.",
        "The server took too long to answer; try again shortly.",
    ),
    # tokens and login
    "token_missing": ("로그인이 필요합니다.", "A bearer token is required."),
    "token_invalid": ("유효하지 않은 토큰입니다.", "The token is not valid."),
    "token_expired": ("토큰이 만료되었습니다.", "The token has expired."),
    "token_revoked": (
        "로그아웃되었거나 더 이상 유효하지 않은 토큰입니다.",
        "The token was revoked or its account is gone.",
    ),
    "invalid_credentials": (
        "아이디 또는 비밀번호가 올바르지 않습니다.",
        "Wrong login or password.",
    ),
    "account_locked": (
        "로그인 실패가 반복되어 잠시 잠겼습니다. 잠시 후 다시 시도해 주세요.",
        "Too many failed logins; try again later.",
    ),
    "account_disabled": ("사용이 중지된 계정입니다.", "This account is disabled."),
    "account_exists": (
        "이미 가입된 이메일 또는 전화번호입니다.",
        "An account with this e-mail or phone exists.",
    ),
    "login_required": (
        "이메일 또는 전화번호를 입력해 주세요.",
        "Give an e-mail or a phone number.",
    ),
    # identity administration
    "municipality_not_found": ("지자체를 찾을 수 없습니다.", "Municipality not found."),
    "municipality_exists": (
        "이미 등록된 지자체 코드입니다.",
        "A municipality with this code exists.",
    ),
    "municipality_required": (
        "이 역할에는 소속 지자체가 필요합니다.",
        "This role belongs to a municipality.",
    ),
    "municipality_not_allowed": ("이 역할은 지자체에 소속되지 않습니다.", "This role is national."),
    "user_not_found": ("사용자를 찾을 수 없습니다.", "User not found."),
    "self_demotion": (
        "자기 자신의 권한을 낮추거나 삭제할 수 없습니다.",
        "Admins cannot demote, deactivate or delete themselves.",
    ),
    # idempotency
    "idempotency_key_reused": (
        "같은 Idempotency-Key가 다른 요청에 이미 사용되었습니다.",
        "This Idempotency-Key was used for a different request.",
    ),
    "idempotency_key_in_use": (
        "같은 Idempotency-Key의 요청이 처리 중입니다.",
        "A request with this Idempotency-Key is in progress.",
    ),
    "idempotency_key_invalid": (
        "Idempotency-Key 형식이 올바르지 않습니다.",
        "The Idempotency-Key header is not valid.",
    ),
}


#: Each domain keeps its codes in backend/api/messages_<domain>.py as MESSAGES = {...}.
_DOMAIN_CATALOGUES: list[dict[str, tuple[str, str]]] = [
    messages_participation.MESSAGES,
    messages_committees.MESSAGES,
    messages_certification.MESSAGES,
    messages_notifications.MESSAGES,
    messages_ministry.MESSAGES,
    messages_privacy.MESSAGES,
]

MESSAGES: dict[str, tuple[str, str]] = {**CORE_MESSAGES}
for _catalogue in _DOMAIN_CATALOGUES:
    MESSAGES.update(_catalogue)


def wants_english(accept_language: str | None) -> bool:
    """Whether the caller's first language preference is English."""
    if not accept_language:
        return False
    first = accept_language.split(",")[0].split(";")[0].strip().lower()
    return first.startswith("en")


def message_for(code: str, fallback: str, *, english: bool) -> str:
    """The message for a code in the caller's language, or the raiser's text if uncatalogued."""
    known = MESSAGES.get(code)
    if known is None:
        return fallback
    korean, english_text = known
    return english_text if english else korean
