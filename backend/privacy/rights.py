"""The citizen's rights: export of everything held about them, correction, deletion; and the
scheduled jobs that go with them (exports made off the request, retention, dormancy).

Deletion erases or anonymises at once. What stays is pseudonymous (the opaque account id,
no name, contact or birth year) and kept for a reason: participations (the reports' numbers
must not change), the reward ledger (a municipality's accounts), certificates (their
revocation must stay verifiable), appointments (a committee's history), the audit log and the
access records (their own retention).
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from backend import events
from backend.audit.models import AuditEntry
from backend.audit.services import record_audit
from backend.clock import add_months, seoul_date, utcnow
from backend.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RuleViolation,
    Unauthenticated,
    ValidationFailed,
)
from backend.extensions import db
from backend.identity.models import AuthSession, Municipality, User
from backend.identity.passwords import hash_password, verify_password
from backend.identity.services import _ensure_login_is_free, normalize_email, normalize_phone
from backend.permissions import Role, can_see_dormancy_policy, can_set_dormancy_policy
from backend.privacy.models import (
    Consent,
    DataExport,
    DormancyPolicy,
    ExportStatus,
    GuardianConsent,
    IdentityAssurance,
)

#: What an anonymised account is called wherever its (masked) name would show.
DELETED_NAME = "탈퇴회원"
#: Profile fields a citizen corrects themselves; everything else says whom to ask.
SELF_EDITABLE = ("display_name", "locale", "email", "phone")
#: Audit detail keys that hold personal values; scrubbed when the account is deleted.
_PERSONAL_DETAIL_KEYS = ("display_name", "email", "phone", "name")


# ---- export ---------------------------------------------------------------------------------


def _rows(model: Any, *conditions: Any) -> list[dict[str, Any]]:
    """Every column of the matching rows, JSON-ready (times ISO 8601, enums by value)."""
    table = model.__table__
    out = []
    for row in db.session.execute(sa.select(table).where(*conditions)).mappings():
        out.append({key: _plain(value) for key, value in row.items()})
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    if isinstance(value, bytes):
        return None  # encrypted values (CI/DI) are not shown, even to their owner
    return value


def _collect(user: User) -> dict[str, Any]:
    """Everything the platform holds about a citizen."""
    from backend.certification.models import Certificate
    from backend.committees.models import Appointment, Registration
    from backend.notifications.models import Device, Notification, NotificationPreference
    from backend.participation.models import Participation, SurveyResponse
    from backend.rewards.models import RewardLedgerEntry

    profile = _rows(User, User.id == user.id)[0]
    for secret in ("password_hash", "failed_logins", "locked_until"):
        profile.pop(secret, None)
    devices = _rows(Device, Device.user_id == user.id)
    for device in devices:
        device["token"] = device["token"][:8] + "…"  # enough to recognise, useless to send with
    return {
        "generated_at": utcnow().isoformat(),
        "profile": profile,
        "consents": _rows(Consent, Consent.user_id == user.id),
        "guardian_consents": _rows(GuardianConsent, GuardianConsent.user_id == user.id),
        "identity_assurance": _rows(IdentityAssurance, IdentityAssurance.user_id == user.id),
        "participations": _rows(Participation, Participation.user_id == user.id),
        "rewards": _rows(RewardLedgerEntry, RewardLedgerEntry.user_id == user.id),
        "certificates": _rows(Certificate, Certificate.user_id == user.id),
        "appointments": _rows(Appointment, Appointment.user_id == user.id),
        "registrations": _rows(Registration, Registration.user_id == user.id),
        "notifications": _rows(Notification, Notification.user_id == user.id),
        "notification_preferences": _rows(
            NotificationPreference, NotificationPreference.user_id == user.id
        ),
        "devices": devices,
        "survey_answers": _rows(SurveyResponse, SurveyResponse.user_id == user.id),
    }


def _size(user: User) -> int:
    from backend.notifications.models import Notification
    from backend.participation.models import Participation
    from backend.rewards.models import RewardLedgerEntry

    return sum(
        db.session.scalar(sa.select(sa.func.count()).where(model.user_id == user.id)) or 0
        for model in (Participation, RewardLedgerEntry, Notification)
    )


def _fill(export: DataExport, user: User) -> None:
    export.content = json.dumps(_collect(user), ensure_ascii=False)
    export.status = ExportStatus.READY
    export.ready_at = utcnow()
    export.expires_at = export.ready_at + timedelta(hours=current_app.config["DATA_EXPORT_HOURS"])


def request_export(*, user: User) -> DataExport:
    """Ask for an export: made at once when small, else by `flask privacy exports`."""
    export = DataExport(user_id=user.id, status=ExportStatus.PENDING, created_at=utcnow())
    db.session.add(export)
    if _size(user) <= current_app.config["DATA_EXPORT_INLINE_ROWS"]:
        _fill(export, user)
    db.session.flush()
    return export


def process_pending_exports() -> int:
    """Make every pending export, one transaction each (the scheduled job or a worker)."""
    done = 0
    while True:
        export = db.session.scalar(
            sa.select(DataExport)
            .where(DataExport.status == ExportStatus.PENDING)
            .order_by(DataExport.id)
            .limit(1)
        )
        if export is None:
            return done
        _fill(export, db.session.get(User, export.user_id))
        db.session.commit()
        done += 1


def get_export(*, user: User, export_id: str) -> DataExport:
    """One of the caller's exports."""
    export = db.session.get(DataExport, export_id)
    if export is None or export.user_id != user.id:
        raise NotFound("Export not found.", code="export_not_found")
    return export


def list_exports(*, user: User) -> list[DataExport]:
    """The caller's exports, newest first."""
    return list(
        db.session.scalars(
            sa.select(DataExport)
            .where(DataExport.user_id == user.id)
            .order_by(DataExport.id.desc())
        )
    )


def download_export(*, user: User, export_id: str) -> dict[str, Any]:
    """The export's document; the download is recorded (audit log)."""
    export = get_export(user=user, export_id=export_id)
    if export.status == ExportStatus.PENDING:
        raise Conflict("The export is not ready yet.", code="export_not_ready")
    if export.status == ExportStatus.EXPIRED or (
        export.expires_at is not None and export.expires_at <= utcnow()
    ):
        raise RuleViolation("The export has expired; ask for a new one.", code="export_expired")
    export.downloaded_at = utcnow()
    db.session.flush()
    record_audit(
        actor=user,
        action="privacy.export_download",
        target_type="data_export",
        target_id=export.id,
        municipality_id=user.municipality_id,
    )
    return json.loads(export.content or "{}")


def table_csv(document: dict[str, Any], table: str) -> str:
    """One table of an export (participations, rewards) as CSV."""
    rows = document.get(table) or []
    buffer = io.StringIO()
    buffer.write("\ufeff")
    columns = list(rows[0]) if rows else []
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    return buffer.getvalue()


def expire_exports(*, now: datetime | None = None) -> int:
    """Drop the content of exports past their time (the scheduled job)."""
    result = db.session.execute(
        sa.update(DataExport)
        .where(DataExport.status == ExportStatus.READY, DataExport.expires_at <= (now or utcnow()))
        .values(status=ExportStatus.EXPIRED, content=None)
    )
    return result.rowcount or 0


# ---- correction -----------------------------------------------------------------------------


def update_profile(*, user: User, changes: dict[str, Any]) -> User:
    """A citizen corrects their own name, language, e-mail or phone."""
    if "email" in changes or "phone" in changes:
        email = normalize_email(changes.get("email", user.email))
        phone = normalize_phone(changes.get("phone", user.phone))
        if not email and not phone:
            raise ValidationFailed(
                "Keep an e-mail or a phone to log in.",
                code="login_required",
                fields={"email": ["Keep an e-mail or a phone."], "phone": ["Keep one."]},
            )
        changed = {k: v for k, v in (("email", email), ("phone", phone)) if v != getattr(user, k)}
        probe_email = changed.get("email")
        probe_phone = changed.get("phone")
        if probe_email or probe_phone:
            _ensure_login_is_free(probe_email, probe_phone)
        changes = {**changes, "email": email, "phone": phone}
    fields = sorted(k for k, v in changes.items() if getattr(user, k) != v)
    for name in fields:
        setattr(user, name, changes[name].strip() if name == "display_name" else changes[name])
    if fields:
        db.session.flush()
        record_audit(
            actor=user,
            action="privacy.profile_correct",
            target_type="user",
            target_id=user.id,
            municipality_id=user.municipality_id,
            details={"fields": fields},  # which fields, never their values
        )
    return user


# ---- deletion -------------------------------------------------------------------------------


def delete_own_account(*, user: User, password: str) -> None:
    """A citizen leaves: see the module's docstring for what is erased and what is kept."""
    if not verify_password(user.password_hash, password):
        raise Unauthenticated("Wrong password.", code="invalid_credentials")
    erase_account(user=user, actor=user)


def erase_account(*, user: User, actor: User | None) -> None:
    """Erase or anonymise an account's personal data at once, and stop what it holds."""
    from backend.certification.models import Certificate, CertificateStatus
    from backend.certification.services import revoke_certificate
    from backend.committees.appointments import end_seats_of_leaving_member
    from backend.committees.models import CalendarFeed
    from backend.idempotency.models import IdempotencyRecord
    from backend.idempotency.services import forget_anonymous_answers_about
    from backend.notifications.models import Notification, NotificationPreference
    from backend.participation.models import SurveyResponse

    now = utcnow()
    # Logins and devices stop first (the devices go with the event, as on an admin's deletion).
    db.session.execute(
        sa.update(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    for certificate in db.session.scalars(
        sa.select(Certificate).where(
            Certificate.user_id == user.id, Certificate.status != CertificateStatus.REVOKED
        )
    ):
        revoke_certificate(certificate=certificate, actor=None, reason="회원 탈퇴")
    end_seats_of_leaving_member(user_id=user.id, reason="회원 탈퇴")
    # Erased: what only served the person.
    for model in (Consent, GuardianConsent, IdentityAssurance, DataExport, Notification):
        db.session.execute(sa.delete(model).where(model.user_id == user.id))
    db.session.execute(
        sa.delete(NotificationPreference).where(NotificationPreference.user_id == user.id)
    )
    db.session.execute(sa.delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    db.session.execute(
        sa.delete(IdempotencyRecord).where(IdempotencyRecord.scope == f"user:{user.id}")
    )
    # The sign-up's own answer, kept for replays under the anonymous scope, names the person.
    forget_anonymous_answers_about(user.id)
    # Survey answers keep their rating (the project's satisfaction figures), not the free text.
    db.session.execute(
        sa.update(SurveyResponse).where(SurveyResponse.user_id == user.id).values(comment="")
    )
    _scrub_audit(user.id)
    # The account row stays, anonymised, so the kept rows' ids still join (reports unchanged).
    user.display_name = DELETED_NAME
    user.email = f"deleted+{user.id.lower()}@invalid"
    user.phone = None
    user.birth_year = None
    user.password_hash = hash_password(secrets.token_urlsafe(32))
    user.is_active = False
    user.deleted_at = now
    user.locked_until = None
    db.session.flush()
    events.publish(events.USER_DELETED, user_id=user.id, actor_id=actor.id if actor else None)
    record_audit(
        actor=actor,
        action="privacy.account_erase",
        target_type="user",
        target_id=user.id,
        municipality_id=user.municipality_id,
    )


def _scrub_audit(user_id: str) -> None:
    """Keep the audit entries about the account, without the personal values they recorded."""
    for entry in db.session.scalars(
        sa.select(AuditEntry).where(
            AuditEntry.target_type == "user", AuditEntry.target_id == user_id
        )
    ):
        if any(key in (entry.details or {}) for key in _PERSONAL_DETAIL_KEYS):
            entry.details = {
                key: ("[erased]" if key in _PERSONAL_DETAIL_KEYS else value)
                for key, value in entry.details.items()
            }


def purge_retained(*, now: datetime | None = None) -> int:
    """After the accounts' retention, drop the last link of a deleted account to its municipality
    and its login: the anonymised row keeps only its id (what the kept rows join on)."""
    cutoff = (now or utcnow()) - timedelta(days=365 * current_app.config["RETAINED_PAYMENT_YEARS"])
    result = db.session.execute(
        sa.delete(AuthSession).where(
            AuthSession.user_id.in_(
                sa.select(User.id).where(User.deleted_at.is_not(None), User.deleted_at < cutoff)
            )
        )
    )
    return result.rowcount or 0


# ---- dormancy -------------------------------------------------------------------------------


def get_dormancy_policy(*, viewer: User, municipality_id: str) -> DormancyPolicy | None:
    """A municipality's dormancy policy (None: accounts never become dormant)."""
    _ensure_policy_reader(viewer, municipality_id)
    return db.session.get(DormancyPolicy, municipality_id)


def set_dormancy_policy(
    *, actor: User, municipality_id: str, inactive_months: int, action: str, notice_days: int
) -> DormancyPolicy:
    """Set a municipality's dormancy policy (its officials, or an admin)."""
    _ensure_policy_reader(actor, municipality_id)
    if not can_set_dormancy_policy(actor):
        raise PermissionDenied("Only officials and admins set the dormancy policy.")
    policy = db.session.get(DormancyPolicy, municipality_id) or DormancyPolicy(
        municipality_id=municipality_id
    )
    policy.inactive_months, policy.action, policy.notice_days = inactive_months, action, notice_days
    policy.updated_at = utcnow()
    db.session.add(policy)
    db.session.flush()
    record_audit(
        actor=actor,
        action="privacy.dormancy_policy",
        target_type="municipality",
        target_id=municipality_id,
        municipality_id=municipality_id,
        details={"inactive_months": inactive_months, "action": action, "notice_days": notice_days},
    )
    return policy


def _ensure_policy_reader(viewer: User, municipality_id: str) -> None:
    # A national role sees every municipality, but only those that exist (the policy row
    # references it).
    if (
        not can_see_dormancy_policy(viewer, municipality_id)
        or db.session.get(Municipality, municipality_id) is None
    ):
        raise NotFound("Municipality not found.", code="municipality_not_found")


def _last_use(user_id: str) -> Any:
    return db.session.scalar(
        sa.select(sa.func.max(AuthSession.created_at)).where(AuthSession.user_id == user_id)
    )


def apply_dormancy(*, now: datetime | None = None) -> tuple[int, int]:
    """For each municipality's policy: notify citizens unused for the period minus the notice
    days (once), then restrict or delete those still unused when the period is over."""
    from backend.notifications.models import Category
    from backend.notifications.services import notify_users
    from backend.notifications.texts import Content

    now = now or utcnow()
    noticed = acted = 0
    for policy in db.session.scalars(sa.select(DormancyPolicy)):
        citizens = db.session.scalars(
            sa.select(User).where(
                User.municipality_id == policy.municipality_id,
                User.role == Role.CITIZEN,
                User.deleted_at.is_(None),
                User.is_active.is_(True),
            )
        )
        for user in citizens:
            last = _last_use(user.id) or user.created_at
            due = add_months(seoul_date(last), policy.inactive_months)
            notice_from = due - timedelta(days=policy.notice_days)
            today = seoul_date(now)
            if user.dormancy_notice_at is not None and user.dormancy_notice_at < last:
                user.dormancy_notice_at = None  # used again since the last notice
            if today >= due and user.dormancy_notice_at is not None:
                if policy.action == "delete":
                    erase_account(user=user, actor=None)
                else:
                    user.is_active = False
                acted += 1
            elif today >= notice_from and user.dormancy_notice_at is None:
                notify_users(
                    user_ids=[user.id],
                    content=Content(
                        kind="account.dormancy_notice",
                        # Not a programme announcement: a notice the law asks for (PIPA
                        # art. 39-6 in its day); it reaches the inbox whatever the push settings.
                        category=Category.PARTICIPATION,
                        title_ko="휴면 전환 안내",
                        body_ko=f"{due.isoformat()}까지 로그인하지 않으면 계정이 "
                        + ("삭제됩니다." if policy.action == "delete" else "휴면 처리됩니다."),
                        title_en="Your account will become dormant",
                        body_en=f"Log in before {due.isoformat()} to keep your account.",
                        link="/me",
                        data={"due": due.isoformat()},
                    ),
                    municipality_id=policy.municipality_id,
                )
                user.dormancy_notice_at = now
                noticed += 1
    db.session.flush()
    return noticed, acted
