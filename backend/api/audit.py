"""HTTP for the audit log (admins)."""

from __future__ import annotations

from typing import Any

from backend.api.auth import requires
from backend.api.blueprint import Blueprint
from backend.audit.schemas import AuditEntrySchema, AuditListArgsSchema
from backend.audit.services import list_audit_entries
from backend.permissions import Role
from backend.schemas import page_of

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Audit log")


@blp.route("/audit-log", methods=["GET"])
@requires(Role.ADMIN)
@blp.arguments(AuditListArgsSchema, location="query")
@blp.response(200, page_of(AuditEntrySchema))
def audit_log(args: dict[str, Any]) -> Any:
    """Staff actions, newest first, filterable by action, actor and target (admin)."""
    return list_audit_entries(**args)
