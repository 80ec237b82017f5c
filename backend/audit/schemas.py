"""Audit log schemas."""

from __future__ import annotations

from marshmallow import fields

from backend.schemas import Id, OutputSchema, PageArgsSchema, SeoulDateTime, Text


class AuditEntrySchema(OutputSchema):
    id = Id(required=True)
    actor_id = Id(allow_none=True)
    actor_role = fields.String(allow_none=True)
    municipality_id = Id(allow_none=True)
    action = fields.String(required=True, metadata={"example": "user.create"})
    target_type = fields.String(required=True)
    target_id = fields.String(allow_none=True)
    details = fields.Dict(required=True)
    created_at = SeoulDateTime(required=True)


class AuditListArgsSchema(PageArgsSchema):
    action = Text(64, load_default=None)
    actor_id = Id(load_default=None)
    target_type = Text(40, load_default=None)
    target_id = Text(64, load_default=None)
