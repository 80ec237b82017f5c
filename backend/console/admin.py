"""Admins: staff accounts and roles, municipalities, and the audit log with filters."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request

from backend.api import audit as api_audit
from backend.api import identity as api_identity
from backend.audit.schemas import AuditListArgsSchema
from backend.audit.services import list_audit_entries
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.forms import domain_errors, load_form
from backend.console.pages import done, page, page_args
from backend.console.privacy import log_access
from backend.errors import DomainError
from backend.identity import services
from backend.identity.schemas import (
    MunicipalityCreateSchema,
    StaffCreateSchema,
    UserListArgsSchema,
    UserUpdateSchema,
)
from backend.permissions import STAFF_ROLES, Role
from backend.privacy.models import AccessAction


def _filters(schema: ma.Schema, names: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    raw = {k: v for k, v in request.args.items() if v and k in names}
    try:
        args = schema.load(raw)
    except ma.ValidationError:
        raw, args = {}, schema.load({})
    args.update(page_args())
    return args, raw


def _users_page(status: int = 200, **context: Any) -> Any:
    args, raw = _filters(UserListArgsSchema(), ("role", "municipality_id"))
    result = services.list_users(viewer=current_user(), **args)
    # Recorded as the API's list is (the same resource name): accounts are personal data.
    log_access(AccessAction.VIEW, "users.list", [user.id for user in result.items])
    return page(
        "users.html",
        status,
        result=result,
        filters=raw,
        roles=list(Role),
        staff_roles=sorted(STAFF_ROLES, key=list(Role).index),
        municipalities=services.list_municipalities(),
        form=request.form,
        **context,
    )


@bp.route("/admin/users")
@mirrors(api_identity.list_users)
def users() -> Any:
    """Accounts the user may see (admins: all), by role and municipality."""
    return _users_page()


@bp.route("/admin/users", methods=["POST"])
@mirrors(api_identity.create_staff_user)
def user_new() -> Any:
    """Create a staff account."""
    data, errors = load_form(StaffCreateSchema())
    if data is not None:
        try:
            services.create_staff_user(actor=current_user(), **data)
            return done("console.users")
        except DomainError as error:
            errors = domain_errors(error)
    return _users_page(422, errors=errors)


@bp.route("/admin/users/<user_id>", methods=["POST"])
@mirrors(api_identity.update_user)
def user_update(user_id: str) -> Any:
    """Change an account's role or activity (effective on its next request)."""
    actor = current_user()
    user = services.get_user_for(viewer=actor, user_id=user_id)
    extra = {"is_active": request.form.get("is_active") == "1"}
    data, errors = load_form(UserUpdateSchema(), **extra)
    if data is not None:
        try:
            services.update_user(actor=actor, user=user, **data)
            return done("console.users", **request.args)
        except DomainError as error:
            errors = domain_errors(error)
    return _users_page(422, errors=errors)


def _municipalities_page(status: int = 200, **context: Any) -> Any:
    return page(
        "municipalities.html",
        status,
        municipalities=services.list_municipalities(),
        form=request.form,
        **context,
    )


@bp.route("/admin/municipalities", methods=["GET", "POST"])
@mirrors(api_identity.create_municipality)
def municipalities() -> Any:
    """The municipalities; register a new one."""
    if request.method == "GET":
        return _municipalities_page()
    data, errors = load_form(MunicipalityCreateSchema())
    if data is not None:
        try:
            services.create_municipality(actor=current_user(), **data)
            return done("console.municipalities")
        except DomainError as error:
            errors = domain_errors(error)
    return _municipalities_page(422, errors=errors)


@bp.route("/admin/audit")
@mirrors(api_audit.audit_log)
def audit() -> Any:
    """Staff actions, newest first, filtered by action, actor and target."""
    names = ("action", "actor_id", "target_type", "target_id")
    args, raw = _filters(AuditListArgsSchema(), names)
    return page("audit.html", result=list_audit_entries(**args), filters=raw)
