"""HTTP for personal data: consents, guardian consent, access records, the citizen's rights."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from backend.api.auth import current_caller, public, requires, signed_in
from backend.api.blueprint import Blueprint
from backend.errors import ValidationFailed
from backend.identity.schemas import UserSelfSchema
from backend.identity.services import get_user_for
from backend.permissions import Role
from backend.privacy import access, assurance, consents, rights
from backend.privacy.models import ConsentChannel
from backend.privacy.schemas import (
    AccessRecordArgsSchema,
    AccessRecordSchema,
    AssuranceCreateSchema,
    AssuranceRequirementSchema,
    AssuranceSchema,
    ConsentStateSchema,
    ConsentsUpdateSchema,
    ConsentTextSchema,
    DataExportSchema,
    DeletionSchema,
    DormancyPolicySchema,
    ExportDownloadArgsSchema,
    GuardianConsentCreateSchema,
    GuardianConsentSchema,
    ProfileUpdateSchema,
    ReviewArgsSchema,
    ReviewSchema,
)
from backend.schemas import page_of

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


# ---- access records (admins) ----------------------------------------------------------------


@blp.route("/access-records", methods=["GET"])
@requires(Role.ADMIN)
@blp.arguments(AccessRecordArgsSchema, location="query")
@blp.response(200, page_of(AccessRecordSchema))
def list_access_records(args: dict[str, Any]) -> Any:
    """Who read, exported, changed or deleted citizens' data, newest first. "Who looked at this
    citizen in the last year": `?subject_id=...&since=...`."""
    return access.list_access_records(viewer=current_caller(), **args)


@blp.route("/access-records/review", methods=["GET"])
@requires(Role.ADMIN)
@blp.arguments(ReviewArgsSchema, location="query")
@blp.response(200, ReviewSchema)
def access_review(args: dict[str, Any]) -> Any:
    """The monthly review: totals, and flags for exports far above an account's usual and for
    access outside office hours (08-20 Asia/Seoul, weekdays)."""
    return access.monthly_review(viewer=current_caller(), **args)


# ---- the citizen's rights -------------------------------------------------------------------


@blp.route("/me/exports", methods=["POST"])
@signed_in
@blp.response(202, DataExportSchema)
def request_export() -> Any:
    """Ask for everything the platform holds about the caller. Small exports are `ready` at
    once; large ones are made shortly after (`pending`, poll `GET /me/exports/{id}`)."""
    return rights.request_export(user=current_caller())


@blp.route("/me/exports", methods=["GET"])
@signed_in
@blp.response(200, DataExportSchema(many=True))
def list_exports() -> Any:
    """The caller's exports, newest first."""
    return rights.list_exports(user=current_caller())


@blp.route("/me/exports/<export_id>", methods=["GET"])
@signed_in
@blp.response(200, DataExportSchema)
def get_export(export_id: str) -> Any:
    """One of the caller's exports (its status and how long it stays downloadable)."""
    return rights.get_export(user=current_caller(), export_id=export_id)


@blp.route("/me/exports/<export_id>/download", methods=["GET"])
@signed_in
@blp.arguments(ExportDownloadArgsSchema, location="query")
@blp.response(200, description="The export as JSON (`?table=participations|rewards`: CSV).")
@blp.alt_response(409, "Conflict")
def download_export(args: dict[str, Any], export_id: str) -> Any:
    """Download an export: JSON with every table, or one table as CSV. Recorded."""
    document = rights.download_export(user=current_caller(), export_id=export_id)
    table = args.get("table")
    if table is None:
        response = jsonify(document)
        response.headers["Content-Disposition"] = f'attachment; filename="my-data-{export_id}.json"'
        return response
    response = Response(rights.table_csv(document, table), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="my-{table}.csv"'
    return response


@blp.route("/me/profile", methods=["PATCH"])
@signed_in
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, UserSelfSchema)
def update_profile(data: dict[str, Any]) -> Any:
    """Correct the caller's own name, language, e-mail or phone. Anything else (role,
    municipality, birth year, confirmed hours, rewards, certificates) is corrected by the
    municipality's officials on request: 422 `field_not_self_editable` names them."""
    unknown = sorted(set(data) - set(rights.SELF_EDITABLE))
    if unknown:
        raise _not_self_editable(unknown)
    return rights.update_profile(user=current_caller(), changes=data)


@blp.route("/me/deletion", methods=["POST"])
@signed_in
@blp.arguments(DeletionSchema)
@blp.response(204)
def delete_account(data: dict[str, Any]) -> None:
    """Delete the caller's account (password to confirm): personal data is erased or
    anonymised at once, certificates are revoked, committee seats end, logins and devices stop.
    What the accounts and reports need is kept without identity (README, "Personal data")."""
    rights.delete_own_account(user=current_caller(), password=data["password"])


def _not_self_editable(unknown: list[str]) -> ValidationFailed:
    return ValidationFailed(
        "This cannot be changed here; ask your municipality.",
        code="field_not_self_editable",
        fields={name: ["Ask your municipality's officials."] for name in unknown},
    )


# ---- identity assurance ---------------------------------------------------------------------


@blp.route("/me/identity-assurance", methods=["POST"])
@signed_in
@blp.arguments(AssuranceCreateSchema)
@blp.response(200, AssuranceSchema)
def assure_identity(data: dict[str, Any]) -> Any:
    """Store the result of an identity check made in the app with the municipality's provider
    (PASS, i-PIN, 간편인증): the provider's one-time result token goes here."""
    return assurance.record_assurance(user=current_caller(), result_token=data["result_token"])


@blp.route("/activities/<activity_id>/assurance-requirement", methods=["PUT"])
@requires(Role.OFFICIAL)
@blp.arguments(AssuranceRequirementSchema)
@blp.response(200, AssuranceRequirementSchema)
def require_activity_level(data: dict[str, Any], activity_id: str) -> Any:
    """Require an identity assurance level of citizens joining the activity."""
    from backend.participation.services import get_activity

    activity = get_activity(viewer=current_caller(), activity_id=activity_id)
    return _require_level("activity", activity, data["level"])


@blp.route("/committees/<committee_id>/assurance-requirement", methods=["PUT"])
@requires(Role.OFFICIAL)
@blp.arguments(AssuranceRequirementSchema)
@blp.response(200, AssuranceRequirementSchema)
def require_committee_level(data: dict[str, Any], committee_id: str) -> Any:
    """Require an identity assurance level of citizens appointed to the committee."""
    from backend.committees.services import get_committee

    committee = get_committee(viewer=current_caller(), committee_id=committee_id)
    return _require_level("committee", committee, data["level"])


def _require_level(target_type: str, target: Any, level: str) -> Any:
    # One place that names the target's municipality, so both targets record alike.
    return assurance.set_requirement(
        actor=current_caller(),
        target_type=target_type,
        target_id=target.id,
        municipality_id=target.municipality_id,
        level=level,
    )


# ---- dormancy policy ------------------------------------------------------------------------


@blp.route("/municipalities/<municipality_id>/dormancy-policy", methods=["GET"])
@requires(Role.OFFICIAL, Role.ADMIN, Role.ANALYST)
@blp.response(200, DormancyPolicySchema)
@blp.alt_response(204, description="No policy: accounts never become dormant.")
def get_dormancy_policy(municipality_id: str) -> Any:
    """The municipality's dormancy policy (휴면 정책)."""
    policy = rights.get_dormancy_policy(viewer=current_caller(), municipality_id=municipality_id)
    return policy if policy is not None else Response(status=204)


@blp.route("/municipalities/<municipality_id>/dormancy-policy", methods=["PUT"])
@requires(Role.OFFICIAL, Role.ADMIN)
@blp.arguments(DormancyPolicySchema)
@blp.response(200, DormancyPolicySchema)
def set_dormancy_policy(data: dict[str, Any], municipality_id: str) -> Any:
    """Set the dormancy policy: `flask privacy dormancy` notifies `notice_days` before the
    `inactive_months` are up, then restricts or deletes accounts still unused."""
    return rights.set_dormancy_policy(
        actor=current_caller(), municipality_id=municipality_id, **data
    )
