"""Marshmallow pieces every domain's schemas share: strict input, Seoul times, pages, errors."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from backend.clock import SEOUL
from backend.ids import ID_PATTERN


class InputSchema(ma.Schema):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    class Meta:
        unknown = ma.RAISE


class OutputSchema(ma.Schema):
    """Base of response bodies (keeps declaration order in the contract)."""

    class Meta:
        ordered = True


def enum_field(enum_class: type, **kwargs: Any) -> fields.Enum:
    """An enum given and shown by its value (the contract lists the values)."""
    return fields.Enum(enum_class, by_value=True, **kwargs)


class SeoulDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset: input must carry one; output is shown in Asia/Seoul."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("example", "2026-11-25T14:00:00+09:00")
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return value.astimezone(SEOUL).isoformat()


class SeoulDate(fields.Date):
    """A calendar date (YYYY-MM-DD) in Asia/Seoul."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("example", "2026-11-25")
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: date | None, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.isoformat()


def Id(**kwargs: Any) -> fields.String:
    """An opaque id (ULID) field."""
    kwargs.setdefault("metadata", {}).setdefault("example", "01JD8X7Q2M4N5P6R7S8T9V0W1X")
    return fields.String(validate=validate.Regexp(ID_PATTERN, error="Not a valid id."), **kwargs)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text_rules(max_length: int, min_length: int, multiline: bool) -> list[Any]:
    # PostgreSQL refuses NUL in text; other control characters only hide things from people.
    control = _CONTROL_MULTILINE if multiline else _CONTROL

    def no_control(value: str) -> None:
        if control.search(value):
            raise ma.ValidationError("Control characters are not allowed.")
        if min_length and not value.strip():
            raise ma.ValidationError("Must not be blank.")

    return [validate.Length(min=min_length, max=max_length), no_control]


def Text(
    max_length: int, *, min_length: int = 0, multiline: bool = False, **kwargs: Any
) -> fields.String:
    """Text with a hard maximum length and no control characters (line breaks if multiline)."""
    return fields.String(validate=_text_rules(max_length, min_length, multiline), **kwargs)


class PageArgsSchema(ma.Schema):
    """`?limit=` and `?cursor=` of every list."""

    class Meta:
        unknown = ma.EXCLUDE

    limit = fields.Integer(
        load_default=20,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Page size, 1-100 (default 20)."},
    )
    cursor = fields.String(
        load_default=None,
        validate=validate.Length(max=64),
        metadata={"description": "Opaque cursor from the previous page's `next_cursor`."},
    )


_page_schemas: dict[str, type[ma.Schema]] = {}


def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The list envelope `{"items": [...], "next_cursor": ...}` for an item schema."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _page_schemas:
        _page_schemas[name] = type(
            name,
            (OutputSchema,),
            {
                "items": fields.List(fields.Nested(item_schema), required=True),
                "next_cursor": fields.String(allow_none=True, required=True),
            },
        )
    return _page_schemas[name]


class ErrorBodySchema(OutputSchema):
    """The inside of every error answer."""

    code = fields.String(
        required=True,
        metadata={"example": "validation_failed", "description": "Stable machine code."},
    )
    message = fields.String(required=True, metadata={"description": "For people (ko or en)."})
    # "fields" would shadow Schema.fields, hence the data_key.
    field_errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        data_key="fields",
        metadata={"description": "Field name to messages; empty when no field is at fault."},
    )


class ErrorSchema(OutputSchema):
    """`{"error": {"code", "message", "fields"}}`: the one error shape of the API."""

    error = fields.Nested(ErrorBodySchema, required=True)
