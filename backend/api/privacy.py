"""HTTP for personal data: consents, guardian consent, access records, the citizen's rights."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from backend.api.auth import current_caller, public, requires, signed_in
from backend.identity.services import get_user_for
from backend.permissions import Role
from backend.privacy import consents
from backend.privacy.models import ConsentChannel
from backend.privacy.schemas import (
    ConsentStateSchema,
    ConsentsUpdateSchema,
    ConsentTextSchema,
    GuardianConsentCreateSchema,
    GuardianConsentSchema,
)

blp = Blueprint(
    "privacy",
    __name__,
    url_prefix="/api/v1",
    description="Personal data: consents, access records, export, correction and deletion",
)


# ---- consents -------------------------------------------------------------------------------


@blp.route("/consent-texts", methods=["GET"])
@public
@blp.response(200, ConsentTextSchema(many=True))
def consent_texts() -> Any:
    """The current text and version of every consent purpose (sign-up and re-consent)."""
    return list(consents.CONSENT_TEXTS.values())


@blp.route("/me/consents", methods=["GET"])
@signed_in
@blp.response(200, ConsentStateSchema(many=True))
def my_consents() -> Any:
    """Where the caller stands on each purpose; `outdated` ones are to be asked again."""
    return consents.consent_states(user=current_caller())


@blp.route("/me/consents", methods=["POST"])
@signed_in
@blp.arguments(ConsentsUpdateSchema)
@blp.response(200, ConsentStateSchema(many=True))
def decide_consents(data: dict[str, Any]) -> Any:
    """Give or refuse consents (e.g. the purposes whose text changed), each with the version
    shown; repeating a decision changes nothing."""
    return consents.record_consents(
        user=current_caller(), decisions=data["consents"], channel=data["channel"], signup=False
    )


@blp.route("/me/consents/<purpose>/withdraw", methods=["POST"])
@signed_in
@blp.response(200, ConsentStateSchema)
def withdraw_consent(purpose: str) -> Any:
    """Withdraw an optional consent; effective at once (e.g. no more programme pushes)."""
    return consents.withdraw_consent(
        user=current_caller(), purpose=purpose, channel=ConsentChannel.APP
    )


@blp.route("/users/<user_id>/guardian-consent", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(GuardianConsentCreateSchema)
@blp.response(201, GuardianConsentSchema)
def record_guardian_consent(data: dict[str, Any], user_id: str) -> Any:
    """Record a legal guardian's consent for a citizen under 14 and how it was obtained (the
    platform does not verify the guardian itself); the account is no longer limited."""
    actor = current_caller()
    user = get_user_for(viewer=actor, user_id=user_id)
    return consents.record_guardian_consent(actor=actor, user=user, **data)
