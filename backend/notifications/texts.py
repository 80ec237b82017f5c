"""What each event says to a citizen, in Korean and English, and where a tap takes the app.

One template per event kind: a category (for preferences), ko/en title and body (str.format
fields filled from the event's payload) and a deep link of the app's `coproduction://` scheme.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from backend import events
from backend.clock import SEOUL
from backend.notifications.models import Category

LINK_SCHEME = "coproduction://"
ANNOUNCEMENT = "announcement"


@dataclass(frozen=True)
class Template:
    """The texts and deep link of one kind of notification."""

    category: Category
    title_ko: str
    body_ko: str
    title_en: str
    body_en: str
    #: Path after coproduction://, with {fields} from the payload.
    link: str


@dataclass(frozen=True)
class Content:
    """A rendered notification, ready to be stored and pushed."""

    kind: str
    category: Category
    title_ko: str
    body_ko: str
    title_en: str | None
    body_en: str | None
    link: str | None
    #: String values only: they also travel in the push's data.
    data: Mapping[str, str] = field(default_factory=dict)


TEMPLATES: dict[str, Template] = {
    events.PARTICIPATION_CONFIRMED: Template(
        Category.PARTICIPATION,
        "참여가 확인되었습니다",
        "활동 참여 {hours}시간이 인정되었습니다.",
        "Participation confirmed",
        "{hours} hours of your activity were recognised.",
        "participations/{participation_id}",
    ),
    events.PARTICIPATION_RECORDED: Template(
        Category.PARTICIPATION,
        "참여가 기록되었습니다",
        "담당 공무원이 {activity_title}({starts_at}) 참여를 기록했습니다.",
        "Your participation was recorded",
        "An official recorded your participation in {activity_title} ({starts_at}).",
        "participations/{participation_id}",
    ),
    events.PARTICIPATION_REJECTED: Template(
        Category.PARTICIPATION,
        "참여가 인정되지 않았습니다",
        "사유: {reason}",
        "Participation not confirmed",
        "Reason: {reason}",
        "participations/{participation_id}",
    ),
    events.REWARD_GRANTED: Template(
        Category.REWARDS,
        "보상이 지급되었습니다",
        "{incentive_ko} {amount} · {reason}",
        "You received a reward",
        "{incentive_en} {amount} · {reason}",
        "rewards/{entry_id}",
    ),
    events.CERTIFICATE_ISSUED: Template(
        Category.CERTIFICATES,
        "모범시민증이 발급되었습니다",
        "유효기간: {expires_on}까지",
        "Your model-citizen certificate was issued",
        "Valid until {expires_on}.",
        "certificates/{certificate_id}",
    ),
    events.CERTIFICATE_EXPIRING: Template(
        Category.CERTIFICATES,
        "모범시민증 만료 예정",
        "{expires_on}에 만료됩니다.",
        "Your certificate expires soon",
        "It expires on {expires_on}.",
        "certificates/{certificate_id}",
    ),
    events.CERTIFICATE_REVOKED: Template(
        Category.CERTIFICATES,
        "모범시민증이 취소되었습니다",
        "사유: {reason}",
        "Your certificate was revoked",
        "Reason: {reason}",
        "certificates/{certificate_id}",
    ),
    events.APPOINTMENT_CREATED: Template(
        Category.COMMITTEES,
        "시민위원으로 위촉되었습니다",
        "{committee_name} ({role}) · 임기 {term_end}까지",
        "You were appointed to a committee",
        "{committee_name} ({role}) · term until {term_end}",
        "appointments/{appointment_id}",
    ),
    events.APPOINTMENT_TERM_ENDING: Template(
        Category.COMMITTEES,
        "위원 임기 만료 예정",
        "{committee_name} 임기가 {term_end}에 끝납니다.",
        "Your committee term ends soon",
        "Your term on {committee_name} ends on {term_end}.",
        "appointments/{appointment_id}",
    ),
    events.APPOINTMENT_DISMISSED: Template(
        Category.COMMITTEES,
        "위원 해촉 안내",
        "{committee_name} · 사유: {reason}",
        "You were dismissed from a committee",
        "{committee_name} · reason: {reason}",
        "appointments/{appointment_id}",
    ),
    events.MEETING_SCHEDULED: Template(
        Category.MEETINGS,
        "회의가 잡혔습니다",
        "{title} · {starts_at}",
        "Meeting scheduled",
        "{title} · {starts_at}",
        "meetings/{meeting_id}",
    ),
    events.MEETING_CHANGED: Template(
        Category.MEETINGS,
        "회의 일정이 변경되었습니다",
        "{title} · {starts_at}",
        "Meeting changed",
        "{title} · {starts_at}",
        "meetings/{meeting_id}",
    ),
    events.MEETING_CANCELLED: Template(
        Category.MEETINGS,
        "회의가 취소되었습니다",
        "{title} · {starts_at}",
        "Meeting cancelled",
        "{title} · {starts_at}",
        "meetings/{meeting_id}",
    ),
    events.MEETING_REMINDER: Template(
        Category.MEETINGS,
        "내일 회의가 있습니다",
        "{title} · {starts_at}",
        "Meeting tomorrow",
        "{title} · {starts_at}",
        "meetings/{meeting_id}",
    ),
    events.REGISTRATION_CONFIRMED: Template(
        Category.MEETINGS,
        "회의 참석 신청이 확정되었습니다",
        "{title} · {starts_at}",
        "Your meeting seat is confirmed",
        "{title} · {starts_at}",
        "registrations/{registration_id}",
    ),
    events.REGISTRATION_PROMOTED: Template(
        Category.MEETINGS,
        "대기자에서 참석자로 확정되었습니다",
        "{title} · {starts_at}",
        "You got a seat from the waitlist",
        "{title} · {starts_at}",
        "registrations/{registration_id}",
    ),
    # Disputes are about a project's co-production, so they follow the participation switch.
    events.DISPUTE_UPDATED: Template(
        Category.PARTICIPATION,
        "분쟁조정 사건이 진행되었습니다",
        "상태: {state}",
        "Your mediation case moved on",
        "state: {state}",
        "disputes/{dispute_id}",
    ),
    events.DISPUTE_HEARING_SCHEDULED: Template(
        Category.PARTICIPATION,
        "분쟁조정 심리 일정이 잡혔습니다",
        "{starts_at} · {place}",
        "A mediation hearing was scheduled",
        "{starts_at} · {place}",
        "disputes/{dispute_id}",
    ),
    events.DISPUTE_DEADLINE_NEAR: Template(
        Category.PARTICIPATION,
        "분쟁조정 기한이 다가옵니다",
        "기한: {deadline}",
        "A mediation deadline is near",
        "deadline: {deadline}",
        "disputes/{dispute_id}",
    ),
}

#: How the reward ledger's incentives read (unknown ones are shown as they are).
INCENTIVES = {
    "points": ("포인트", "points"),
    "voucher": ("상품권", "voucher"),
    "cash": ("현금", "cash"),
    "in_kind": ("현물", "in-kind goods"),
    "commendation": ("표창", "commendation"),
}

#: Payload keys that name things the app may open; they go into the push's data as strings.
_ID_KEYS = (
    "participation_id",
    "entry_id",
    "certificate_id",
    "appointment_id",
    "committee_id",
    "meeting_id",
    "registration_id",
    "activity_id",
    "project_id",
    "announcement_id",
    "dispute_id",
    "hearing_id",
)


def render(kind: str, payload: Mapping[str, Any]) -> Content:
    """Fill the template of an event kind with the event's payload."""
    template = TEMPLATES[kind]
    params = _Params(_params(payload))
    data = {key: str(payload[key]) for key in _ID_KEYS if payload.get(key) is not None}
    return Content(
        kind=kind,
        category=template.category,
        title_ko=_clip(template.title_ko.format_map(params), 200),
        body_ko=_clip(template.body_ko.format_map(params), 2000),
        title_en=_clip(template.title_en.format_map(params), 200),
        body_en=_clip(template.body_en.format_map(params), 2000),
        link=_clip(LINK_SCHEME + template.link.format_map(params), 300),
        data=data,
    )


def announcement_content(
    *, announcement_id: str, title: str, body: str, title_en: str | None, body_en: str | None
) -> Content:
    """The inbox entry and push of an announcement (its English text when the author wrote one)."""
    return Content(
        kind=ANNOUNCEMENT,
        category=Category.ANNOUNCEMENTS,
        title_ko=title,
        body_ko=body,
        title_en=title_en,
        body_en=body_en,
        link=f"{LINK_SCHEME}announcements/{announcement_id}",
        data={"announcement_id": announcement_id},
    )


def pick(
    *, english: bool, title_ko: str, body_ko: str, title_en: str | None, body_en: str | None
) -> tuple[str, str]:
    """Title and body in English when asked for and written, else in Korean."""
    if english and title_en and body_en:
        return title_en, body_en
    return title_ko, body_ko


def is_english(locale: str | None) -> bool:
    """Whether a locale (ko, ko-KR, en, en-US...) asks for English."""
    return bool(locale) and locale.strip().lower().startswith("en")


def _params(payload: Mapping[str, Any]) -> dict[str, str]:
    params = {key: _text(value) for key, value in payload.items() if key != "user_ids"}
    incentive = str(payload.get("incentive") or "")
    params["incentive_ko"], params["incentive_en"] = INCENTIVES.get(incentive, (incentive,) * 2)
    if payload.get("expires_at") is not None:
        params["expires_on"] = _day(payload["expires_at"])
    return params


class _Params(dict):
    """Template fields; one the payload lacks reads as empty rather than failing the event."""

    def __missing__(self, key: str) -> str:
        return ""


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def _day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(SEOUL).date().isoformat()
    return _text(value)


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
