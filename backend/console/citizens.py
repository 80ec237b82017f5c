"""A citizen as staff see them: reward balances and ledger, certificates, consents; grants and
redemptions, certificate revocation and reissue, a legal guardian's consent.

Every view of the page writes the access records the API's views of the same data write
(importing `backend.console.privacy` for that also attaches the privacy pages)."""

from __future__ import annotations

from functools import partial
from typing import Any

from backend.api import certification as api_certification
from backend.api import privacy as api_privacy
from backend.api import rewards as api_rewards
from backend.api.access_log import user_ids
from backend.certification import services as certification
from backend.certification.schemas import ReasonSchema
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.forms import submit
from backend.console.pages import done, page, page_args
from backend.console.privacy import a_year_ago, log_access
from backend.identity.schemas import UserPublicSchema
from backend.identity.services import get_user_for
from backend.privacy import consents
from backend.privacy.models import AccessAction, GuardianMethod
from backend.privacy.schemas import GuardianConsentCreateSchema
from backend.rewards import services as rewards
from backend.rewards.models import REDEEMABLE_INCENTIVES, Incentive
from backend.rewards.schemas import GrantCreateSchema, RedemptionCreateSchema


def _citizen_page(user_id: str, status: int = 200, **context: Any) -> Any:
    viewer = current_user()
    citizen = get_user_for(viewer=viewer, user_id=user_id)
    ledger = rewards.list_entries(user_id=citizen.id, **page_args())
    # The same records as GET /users/{id}/rewards and GET /certificates (its holders).
    log_access(AccessAction.VIEW, "user.rewards", [citizen.id], resource_id=citizen.id)
    certificates = None
    if viewer.role in api_certification.list_certificates.access.roles:
        certificates = certification.list_certificates(
            viewer=viewer, user_id=citizen.id, limit=20, cursor=None
        )
        log_access(AccessAction.VIEW, "certificates.list", user_ids(certificates.items))
    # Consents have no staff API view: their reading is recorded under its own name.
    log_access(AccessAction.VIEW, "user.consents", [citizen.id], resource_id=citizen.id)
    return page(
        "citizen.html",
        status,
        citizen=citizen,
        # Named through the API's schema: masked like every other view of a person.
        person=UserPublicSchema().dump(citizen),
        consent_states=consents.consent_states(user=citizen),
        consent_texts=consents.CONSENT_TEXTS,
        needs_guardian=consents.needs_guardian_consent(citizen),
        guardian_methods=list(GuardianMethod),
        a_year_ago=a_year_ago(),
        balances=rewards.balances(user_id=citizen.id),
        ledger=ledger,
        certificates=certificates,
        incentives=list(Incentive),
        redeemable=[i for i in Incentive if i in REDEEMABLE_INCENTIVES],
        **context,
    )


@bp.route("/citizens/<user_id>")
@mirrors(api_rewards.citizen_rewards)
def citizen(user_id: str) -> Any:
    """A citizen's balances, ledger and certificates."""
    return _citizen_page(user_id)


def _ledger_write(user_id: str, schema: Any, write: Any) -> Any:
    actor = current_user()

    def write_for(**data: Any) -> Any:
        user = rewards.get_citizen_for(actor=actor, user_id=data.pop("user_id"))
        return write(actor=actor, user=user, **data)

    saved, errors = submit(
        schema(), write_for, lambda _: done("console.citizen", user_id=user_id), user_id=user_id
    )
    return saved or _citizen_page(user_id, 422, errors=errors)


@bp.route("/citizens/<user_id>/grants", methods=["POST"])
@mirrors(api_rewards.grant_reward)
def citizen_grant(user_id: str) -> Any:
    """Grant a commendation or a reward (monetary ones draw on the budget)."""
    return _ledger_write(user_id, GrantCreateSchema, rewards.grant_reward)


@bp.route("/citizens/<user_id>/redemptions", methods=["POST"])
@mirrors(api_rewards.record_redemption)
def citizen_redemption(user_id: str) -> Any:
    """Record that the citizen spent points or a voucher."""
    return _ledger_write(user_id, RedemptionCreateSchema, rewards.record_redemption)


def _certificate_write(certificate_id: str, write: Any) -> Any:
    actor = current_user()
    certificate = certification.get_certificate_for(viewer=actor, certificate_id=certificate_id)
    saved, errors = submit(
        ReasonSchema(),
        partial(write, certificate=certificate, actor=actor),
        lambda _: done("console.citizen", user_id=certificate.user_id),
    )
    return saved or _citizen_page(certificate.user_id, 422, errors=errors)


@bp.route("/certificates/<certificate_id>/revoke", methods=["POST"])
@mirrors(api_certification.revoke_certificate)
def certificate_revoke(certificate_id: str) -> Any:
    """Revoke with a reason (scans answer `revoked` within seconds)."""
    return _certificate_write(certificate_id, certification.revoke_certificate)


@bp.route("/certificates/<certificate_id>/reissue", methods=["POST"])
@mirrors(api_certification.reissue_certificate)
def certificate_reissue(certificate_id: str) -> Any:
    """Reissue after a loss: the old one is revoked, a new one replaces it."""
    return _certificate_write(certificate_id, certification.reissue_certificate)


@bp.route("/citizens/<user_id>/guardian-consent", methods=["POST"])
@mirrors(api_privacy.record_guardian_consent)
def citizen_guardian_consent(user_id: str) -> Any:
    """Record a legal guardian's consent for a citizen under 14, and how it was obtained."""
    actor = current_user()
    user = get_user_for(viewer=actor, user_id=user_id)
    saved, errors = submit(
        GuardianConsentCreateSchema(),
        partial(consents.record_guardian_consent, actor=actor, user=user),
        lambda _: done("console.citizen", user_id=user_id),
    )
    return saved or _citizen_page(user_id, 422, errors=errors)
