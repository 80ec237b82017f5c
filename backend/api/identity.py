"""HTTP for identity: sign-up, login, tokens, the caller, municipalities and staff accounts."""

from __future__ import annotations

from typing import Any

from flask import request

from backend.api.access_log import export_csv, log_access
from backend.api.auth import (
    current_caller,
    current_session,
    issue_access_token,
    issue_tokens,
    public,
    requires,
    signed_in,
)
from backend.api.blueprint import Blueprint
from backend.api.reports import CSV_RESPONSE
from backend.extensions import db
from backend.identity import services
from backend.identity.schemas import (
    AccessTokenSchema,
    LoginSchema,
    MunicipalityCreateSchema,
    MunicipalitySchema,
    RegisterSchema,
    StaffCreateSchema,
    TokenPairSchema,
    UserListArgsSchema,
    UserSelfSchema,
    UserStaffSchema,
    UserUpdateSchema,
)
from backend.permissions import ALL_ROLES, Role
from backend.privacy.models import AccessAction
from backend.privacy.schemas import exportable
from backend.schemas import page_of

blp = Blueprint("identity", __name__, url_prefix="/api/v1", description="Accounts and login")


@blp.route("/auth/register", methods=["POST"])
@public
@blp.arguments(RegisterSchema)
@blp.response(201, UserSelfSchema)
def register(data: dict[str, Any]) -> Any:
    """Sign up as a citizen of a municipality."""
    return services.register_citizen(**data)


@blp.route("/auth/login", methods=["POST"])
@public
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
def login(data: dict[str, Any]) -> Any:
    """Log in with e-mail or phone and password; answers an access and a refresh token.

    After repeated failures the account is locked for a while (429 `account_locked`).
    """
    result = services.attempt_login(**data, user_agent=request.user_agent.string)
    if result.error is not None:
        db.session.commit()  # the failure counter must outlive the refused request
        raise result.error
    return issue_tokens(result.user, result.session)


@blp.route("/auth/refresh", methods=["POST"])
@requires(*ALL_ROLES, refresh=True)
@blp.response(200, AccessTokenSchema)
def refresh() -> Any:
    """Exchange a refresh token (as the bearer token) for a new access token."""
    return issue_access_token(current_caller(), current_session())


@blp.route("/auth/logout", methods=["POST"])
@signed_in
@blp.response(204)
def logout() -> None:
    """End the login session: its access and refresh tokens stop working everywhere."""
    services.end_session(session=current_session())


@blp.route("/me", methods=["GET"])
@signed_in
@blp.response(200, UserSelfSchema)
def me() -> Any:
    """The caller's own account."""
    return current_caller()


@blp.route("/municipalities", methods=["GET"])
@public
@blp.response(200, MunicipalitySchema(many=True))
def list_municipalities() -> Any:
    """All municipalities (for the sign-up screen)."""
    return services.list_municipalities()


@blp.route("/municipalities", methods=["POST"])
@requires(Role.ADMIN)
@blp.arguments(MunicipalityCreateSchema)
@blp.response(201, MunicipalitySchema)
def create_municipality(data: dict[str, Any]) -> Any:
    """Register a municipality (admin)."""
    return services.create_municipality(actor=current_caller(), **data)


_USER_COLUMNS = ("id", "display_name", "email", "phone", "role", "municipality_id", "created_at")


@blp.route("/users", methods=["GET"])
@requires(Role.ADMIN, Role.OFFICIAL, Role.ANALYST)
@blp.arguments(exportable(UserListArgsSchema), location="query")
@blp.response(200, page_of(UserStaffSchema))
@blp.alt_response(200, **CSV_RESPONSE)
def list_users(args: dict[str, Any]) -> Any:
    """Accounts the caller may see: officials their municipality's, admins and analysts all;
    `q` searches by exact e-mail or phone, or by name prefix (recorded as a search)."""
    wants_csv, reason = args.pop("format") == "csv", args.pop("reason")
    page = services.list_users(viewer=current_caller(), **args)
    resource = "users.search" if args.get("q") else "users.list"
    ids = [user.id for user in page.items]
    if wants_csv:
        return export_csv(
            page.items,
            UserStaffSchema(),
            _USER_COLUMNS,
            "users.csv",
            resource=resource,
            reason=reason,
            subject_attribute="id",  # the rows are the citizens themselves
        )
    log_access(AccessAction.VIEW, resource, ids)
    return page


@blp.route("/users", methods=["POST"])
@requires(Role.ADMIN)
@blp.arguments(StaffCreateSchema)
@blp.response(201, UserStaffSchema)
def create_staff_user(data: dict[str, Any]) -> Any:
    """Create a staff account (admin)."""
    return services.create_staff_user(actor=current_caller(), **data)


@blp.route("/users/<user_id>", methods=["GET"])
@requires(Role.ADMIN, Role.OFFICIAL, Role.ANALYST)
@blp.response(200, UserStaffSchema)
def get_user(user_id: str) -> Any:
    """One account, if the caller may see it."""
    user = services.get_user_for(viewer=current_caller(), user_id=user_id)
    log_access(AccessAction.VIEW, "user", [user.id], resource_id=user.id)
    return user


@blp.route("/users/<user_id>", methods=["PATCH"])
@requires(Role.ADMIN)
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserStaffSchema)
def update_user(data: dict[str, Any], user_id: str) -> Any:
    """Change role, municipality, activity or name (admin); effective on the next request."""
    actor = current_caller()
    user = services.get_user_for(viewer=actor, user_id=user_id)
    log_access(AccessAction.CHANGE, "user", [user.id], resource_id=user.id)
    return services.update_user(actor=actor, user=user, **data)


@blp.route("/users/<user_id>", methods=["DELETE"])
@requires(Role.ADMIN)
@blp.response(204)
def delete_user(user_id: str) -> None:
    """Delete an account (admin): its tokens stop working at once."""
    actor = current_caller()
    user = services.get_user_for(viewer=actor, user_id=user_id)
    log_access(AccessAction.DELETE, "user", [user.id], resource_id=user.id)
    services.delete_user(actor=actor, user=user)
