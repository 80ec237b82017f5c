"""Form posts read through the API's own input schemas, so the console validates nothing twice."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import marshmallow as ma
from flask import request
from werkzeug.wrappers import Response

from backend.api.errors import flatten_field_errors
from backend.console.i18n import error_text
from backend.console.pages import page
from backend.errors import DomainError

T = TypeVar("T")

#: `<input type="datetime-local">` sends local Seoul time without an offset.
_LOCAL_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")


def form_values(*, lists: tuple[str, ...] = (), keep_empty: tuple[str, ...] = ()) -> dict[str, Any]:
    """The posted fields as the API's JSON would carry them (blank means not given)."""
    values: dict[str, Any] = {}
    for name in request.form:
        if name == "csrf_token":
            continue
        if name in lists:
            values[name] = [v for v in request.form.getlist(name) if v]
            continue
        value = request.form.get(name, "").strip()
        if value == "" and name not in keep_empty:
            continue
        if _LOCAL_DATETIME.match(value):
            value = (value if value.count(":") == 2 else value + ":00") + "+09:00"
        values[name] = value
    return values


def load_form(
    schema: ma.Schema, *, lists: tuple[str, ...] = (), **extra: Any
) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The form loaded by an API input schema; (None, field errors) when it does not load."""
    values = {**form_values(lists=lists), **extra}
    values = {k: _typed(schema.fields[k], v) for k, v in values.items() if k in schema.fields}
    try:
        return schema.load(values), {}
    except ma.ValidationError as error:
        return None, flatten_field_errors(error.messages)


def _typed(field: ma.fields.Field, value: Any) -> Any:
    # Forms send text; the API's strict integer fields want JSON numbers.
    if isinstance(field, ma.fields.Integer) and isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    return value


_INTEGER = re.compile(r"^-?\d{1,12}$")


def domain_errors(error: DomainError) -> dict[str, list[str]]:
    """A service's refusal as the form's error list (its message in the page's language)."""
    return {"_message": [error_text(error.code, error.message)], **error.fields}


def submit(
    schema: ma.Schema,
    write: Callable[..., T],
    then: Callable[[T], Response],
    *,
    lists: tuple[str, ...] = (),
    **extra: Any,
) -> tuple[Response | None, dict[str, list[str]]]:
    """Load the form with the API's schema and call the service `write` with it: (the page
    `then` leads to after the write, {}), or (None, the field or refusal errors to show)."""
    data, errors = load_form(schema, lists=lists, **extra)
    if data is None:
        return None, errors
    try:
        result = write(**data)
    except DomainError as error:
        return None, domain_errors(error)
    return then(result), {}


def form_page(
    template: str,
    schema: ma.Schema,
    write: Callable[..., T],
    then: Callable[[T], Response],
    *,
    extra: Callable[[], dict[str, Any]] = dict,
    **context: Any,
) -> Response:
    """A page with one form: shown on GET; on POST written through `submit` (then `then`'s
    page), or shown again, 422, with the schema's or the service's errors. `extra()` gives
    values the form itself does not carry (called on POST only: it may read the form)."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        saved, errors = submit(schema, write, then, **extra())
        if saved is not None:
            return saved
    # An empty form (GET) is falsy in the templates, which then show the record's own values.
    return page(template, 422 if errors else 200, form=request.form, errors=errors, **context)
