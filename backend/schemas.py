"""Marshmallow pieces every domain's schemas share: strict input, Seoul times, pages, errors."""

from __future__ import annotations

import re
import unicodedata
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

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        """Integers of a body must be JSON integers (`1.5` or "1" is refused, not cut to 1);
        no string of a body may hold a NUL (PostgreSQL cannot store or compare it)."""
        _harden_field(field_obj)


def _no_nul(value: object) -> None:
    # Checked on the loaded value: a String subclass may load into something else.
    if isinstance(value, str) and "\x00" in value:
        raise ma.ValidationError("NUL characters are not allowed.")


def _harden_field(field_obj: fields.Field) -> None:
    if isinstance(field_obj, fields.Integer):
        field_obj.strict = True
    if isinstance(field_obj, fields.String) and not any(
        getattr(rule, "refuses_nul", False) for rule in field_obj.validators
    ):
        field_obj.validators = [*field_obj.validators, _no_nul]
    for inner in (getattr(field_obj, "inner", None), getattr(field_obj, "value_field", None)):
        if isinstance(inner, fields.Field):
            _harden_field(inner)
    for inner in getattr(field_obj, "tuple_fields", ()):
        _harden_field(inner)


_no_nul.refuses_nul = True  # type: ignore[attr-defined]


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


#: The one rule of user-visible text. Refused: C0 and C1 control characters (line breaks and
#: tabs allowed in multiline text), PostgreSQL cannot store NUL and the rest only hide things;
#: bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make text
#: read differently from what is stored ("exe.txt" shown for "txt.exe"); lone surrogates.
_FORBIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_CONTROL = re.compile(f"[{_FORBIDDEN}\t\n\r]")
_CONTROL_MULTILINE = re.compile(f"[{_FORBIDDEN}]")
#: Characters that show nothing: separators, controls, format characters (zero-width joiners
#: and spaces, marks), combining marks without a base, and the Hangul fillers.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me"})
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible_character(value: str) -> bool:
    """Tell whether a text shows anything at all (not only spaces, joiners or fillers)."""
    return any(
        char not in _INVISIBLE and unicodedata.category(char) not in _INVISIBLE_CATEGORIES
        for char in value
    )


def _text_rules(max_length: int, min_length: int, multiline: bool) -> list[Any]:
    control = _CONTROL_MULTILINE if multiline else _CONTROL

    def visible_text(value: str) -> None:
        if control.search(value):
            raise ma.ValidationError("Control characters and direction overrides are not allowed.")
        # Empty is the Length rule's business; text of only invisible characters is refused
        # even where a field is optional: it would show as nothing where people expect text.
        if value and not has_visible_character(value):
            raise ma.ValidationError("Must not be blank.")

    visible_text.refuses_nul = True  # type: ignore[attr-defined]
    return [validate.Length(min=min_length, max=max_length), visible_text]


def Text(
    max_length: int, *, min_length: int = 0, multiline: bool = False, **kwargs: Any
) -> fields.String:
    """User-visible text: a hard maximum length, something visible, no control characters
    (line breaks and tabs if multiline) and no direction overrides."""
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
