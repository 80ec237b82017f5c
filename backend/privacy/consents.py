"""Consent per purpose (동의): what a citizen agreed to, which text version, when and how.

The texts and their versions live here, in code: a new text is a new version, reviewed like any
other change. A citizen is asked again only for the purposes whose version changed since they
last decided (`pending_consents`). Withdrawing an optional consent takes effect in the same
transaction (`on_withdrawn` below switches off what the purpose allowed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from backend.audit.services import record_audit
from backend.clock import seoul_date, utcnow
from backend.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.permissions import Role, is_official_of
from backend.privacy.models import Consent, ConsentChannel, GuardianConsent, GuardianMethod

#: Under this age a legal guardian consents for the child (PIPA art. 22-2).
GUARDIAN_AGE = 14


@dataclass(frozen=True)
class ConsentText:
    """One purpose's current text."""

    purpose: str
    version: str
    required: bool
    title_ko: str
    title_en: str
    body_ko: str


CONSENT_TEXTS: dict[str, ConsentText] = {
    text.purpose: text
    for text in (
        ConsentText(
            "service",
            "2026-12-01",
            True,
            "서비스 이용을 위한 개인정보 수집·이용 (필수)",
            "Personal data to run the service (required)",
            "이름, 연락처(이메일 또는 전화번호), 출생연도, 참여·보상·인증 기록을 참여 관리, "
            "보상 지급, 모범시민증 발급을 위해 회원 탈퇴 시까지 이용합니다. 동의하지 않으면 "
            "가입할 수 없습니다.",
        ),
        ConsentText(
            "marketing_push",
            "2026-12-01",
            False,
            "프로그램 안내 알림 수신 (선택)",
            "Push announcements of programmes (optional)",
            "지자체의 새 사업·프로그램 안내를 앱 알림으로 받습니다. 언제든 철회할 수 있습니다.",
        ),
        ConsentText(
            "volunteer_registry",
            "2026-12-01",
            False,
            "자원봉사 실적 연계를 위한 제3자 제공 (선택)",
            "Sharing hours with the national volunteer registry (optional)",
            "확인된 참여 시간을 국가 자원봉사 실적 관리 시스템(1365 등)에 제공합니다. 제공 항목: "
            "이름, 출생연도, 참여 일시와 시간. 철회하면 이후 제공하지 않습니다.",
        ),
        ConsentText(
            "photos",
            "2026-12-01",
            False,
            "활동 사진 촬영·게시 (선택)",
            "Photos at activities (optional)",
            "활동 중 촬영된 사진을 사업 홍보에 게시할 수 있습니다. "
            "철회하면 새로 게시하지 않습니다.",
        ),
    )
}
REQUIRED_PURPOSES = frozenset(p for p, text in CONSENT_TEXTS.items() if text.required)


def demo_consents() -> list[dict[str, Any]]:
    """Every purpose granted at its current version (the demo accounts)."""
    return [{"purpose": p, "version": t.version, "granted": True} for p, t in CONSENT_TEXTS.items()]


@dataclass(frozen=True)
class ConsentState:
    """A purpose as a citizen stands on it now."""

    purpose: str
    required: bool
    granted: bool
    version: str | None
    current_version: str
    decided_at: Any
    channel: ConsentChannel | None

    @property
    def outdated(self) -> bool:
        """Whether the citizen should be asked again (never decided, or the text changed)."""
        return self.version != self.current_version


def _latest(user_id: str) -> dict[str, Consent]:
    rows = db.session.scalars(
        sa.select(Consent).where(Consent.user_id == user_id).order_by(Consent.id)
    )
    return {row.purpose: row for row in rows}  # later rows overwrite: the newest per purpose


def consent_states(*, user: User) -> list[ConsentState]:
    """Every purpose with the citizen's current decision."""
    latest = _latest(user.id)
    states = []
    for purpose, text in CONSENT_TEXTS.items():
        row = latest.get(purpose)
        states.append(
            ConsentState(
                purpose=purpose,
                required=text.required,
                granted=bool(row and row.granted),
                version=row.version if row else None,
                current_version=text.version,
                decided_at=row.created_at if row else None,
                channel=row.channel if row else None,
            )
        )
    return states


def has_consent(user_id: str, purpose: str, *, unknown: bool = False) -> bool:
    """The citizen's current decision on a purpose; `unknown` for accounts that never decided
    (made before consents were recorded, or by staff)."""
    row = db.session.scalar(
        sa.select(Consent.granted)
        .where(Consent.user_id == user_id, Consent.purpose == purpose)
        .order_by(Consent.id.desc())
        .limit(1)
    )
    return unknown if row is None else bool(row)


def record_consents(
    *, user: User, decisions: Iterable[Mapping[str, Any]], channel: ConsentChannel, signup: bool
) -> list[ConsentState]:
    """Record decisions ({purpose, version, granted}); at sign-up every required purpose must be
    granted. A decision on an old text version is refused: the citizen saw another text."""
    decisions = list(decisions)
    problems: dict[str, list[str]] = {}
    seen: set[str] = set()
    for decision in decisions:
        purpose, version = decision["purpose"], decision["version"]
        text = CONSENT_TEXTS.get(purpose)
        if text is None:
            problems[purpose] = ["Unknown purpose."]
        elif version != text.version:
            problems[purpose] = [f"The current text is version {text.version}."]
        elif text.required and not decision["granted"]:
            problems[purpose] = ["Required to use the service; delete the account instead."]
        elif purpose in seen:
            problems[purpose] = ["Given twice."]
        seen.add(purpose)
    if signup:
        for purpose in REQUIRED_PURPOSES - seen:
            problems[purpose] = ["Required to sign up."]
    if problems:
        raise ValidationFailed(
            "Consent is missing or refers to an old text.",
            code="consent_invalid",
            fields={f"consents.{k}": v for k, v in problems.items()},
        )
    current = _latest(user.id)
    for decision in decisions:
        before = current.get(decision["purpose"])
        unchanged = (
            before is not None
            and before.granted == decision["granted"]
            and before.version == decision["version"]
        )
        if unchanged:
            continue  # a repeat changes nothing and adds no row
        db.session.add(
            Consent(
                user_id=user.id,
                purpose=decision["purpose"],
                version=decision["version"],
                granted=decision["granted"],
                channel=channel,
                created_at=utcnow(),
            )
        )
        _apply(user, decision["purpose"], granted=decision["granted"])
    if signup:
        # What the citizen was not asked about at all counts as not given.
        for purpose in CONSENT_TEXTS.keys() - seen:
            _apply(user, purpose, granted=False)
    db.session.flush()
    return consent_states(user=user)


def withdraw_consent(*, user: User, purpose: str, channel: ConsentChannel) -> ConsentState:
    """Withdraw an optional consent: effective in this transaction."""
    text = CONSENT_TEXTS.get(purpose)
    if text is None:
        raise NotFound("No such consent purpose.", code="consent_not_found")
    if text.required:
        raise Conflict(
            "A required consent is withdrawn by deleting the account.", code="consent_required"
        )
    current = _latest(user.id).get(purpose)
    if current is None or current.granted:
        db.session.add(
            Consent(
                user_id=user.id,
                purpose=purpose,
                version=current.version if current else text.version,
                granted=False,
                channel=channel,
                created_at=utcnow(),
            )
        )
        _apply(user, purpose, granted=False)
        db.session.flush()
    return next(s for s in consent_states(user=user) if s.purpose == purpose)


def _apply(user: User, purpose: str, *, granted: bool) -> None:
    """What a purpose's consent switches on or off elsewhere, at once."""
    if purpose == "marketing_push":
        from backend.notifications.services import update_preferences

        # Programme announcements are the marketing pushes; the app drops the topic on the
        # answer's `topics` of its next device registration (the inbox copy stays).
        update_preferences(user=user, changes={"announcements": granted})
    # volunteer_registry and photos are read where they are used (has_consent): nothing is
    # shared or posted without a current consent.


# ---- children under 14 ----------------------------------------------------------------------


def may_be_under_guardian_age(birth_year: int | None, *, today: Any = None) -> bool:
    """Whether a birth year leaves open that the person is under 14 today.

    With the year alone a child may be 13 or 14 in the year they turn 14: we ask a guardian
    then too (the cautious reading).
    """
    if birth_year is None:
        return False
    year = (today or seoul_date(utcnow())).year
    return year - birth_year <= GUARDIAN_AGE


def needs_guardian_consent(user: Any) -> bool:
    """Whether the account is limited until a legal guardian's consent is recorded."""
    return (
        user.role == Role.CITIZEN
        and user.guardian_consent_at is None
        and may_be_under_guardian_age(user.birth_year)
    )


def record_guardian_consent(
    *, actor: User, user: User, method: GuardianMethod, relation: str
) -> GuardianConsent:
    """An official records that a guardian consented (how it was obtained); lifts the limit."""
    if not is_official_of(actor, user.municipality_id):
        raise PermissionDenied("Only the citizen's municipality records a guardian's consent.")
    if user.role != Role.CITIZEN or user.deleted_at is not None:
        raise NotFound("User not found.", code="user_not_found")
    row = GuardianConsent(user_id=user.id, method=method, relation=relation, recorded_by=actor.id)
    db.session.add(row)
    user.guardian_consent_at = utcnow()
    db.session.flush()
    record_audit(
        actor=actor,
        action="privacy.guardian_consent",
        target_type="user",
        target_id=user.id,
        municipality_id=user.municipality_id,
        details={"method": method.value},
    )
    return row
