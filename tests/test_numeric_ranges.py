"""Every number a body may carry fits the column it is stored in (PostgreSQL would 500 on it).

Walks every input schema: each integer field has a range, and where a model column of the same
name exists, the range fits that column's type (32-bit Integer, BigInteger, SmallInteger,
Numeric(precision, scale)). A field that fits no column it could land in is a finding.
"""

from __future__ import annotations

import importlib
import pkgutil
from decimal import Decimal

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import fields, validate

import backend
from backend.extensions import db
from backend.schemas import InputSchema

INTEGER_LIMITS = {
    sa.SmallInteger: (-(2**15), 2**15 - 1),
    sa.BigInteger: (-(2**63), 2**63 - 1),
    sa.Integer: (-(2**31), 2**31 - 1),
}


def _import_everything() -> None:
    for module in pkgutil.walk_packages(backend.__path__, "backend."):
        if module.name.rsplit(".", 1)[-1] in ("schemas", "models"):
            importlib.import_module(module.name)


def _input_schemas() -> list[type[ma.Schema]]:
    found, todo = [], [InputSchema]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _numeric_fields(schema: ma.Schema) -> list[tuple[str, fields.Field]]:
    out = []
    for name, field in schema.fields.items():
        stored = field.attribute or name
        while isinstance(field, fields.List):
            field = field.inner
        if isinstance(field, fields.Number):
            out.append((stored, field))
    return out


def _range(field: fields.Field) -> tuple[float | None, float | None]:
    low = high = None
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            low = validator.min if low is None else max(low, validator.min or low)
            high = validator.max if high is None else min(high, validator.max or high)
    return low, high


def _column_limits(column: sa.Column) -> tuple[Decimal, Decimal] | None:
    column_type = column.type
    for type_class, (low, high) in INTEGER_LIMITS.items():
        if isinstance(column_type, type_class):
            return Decimal(low), Decimal(high)
    if isinstance(column_type, sa.Numeric) and not isinstance(column_type, sa.Float):
        if column_type.precision is None:
            return None
        bound = Decimal(10) ** (column_type.precision - (column_type.scale or 0))
        return -bound, bound
    return None


def _columns_for(schema: ma.Schema) -> dict[str, list[sa.Column]]:
    """The columns a schema's fields land in: those of the table sharing most of its field
    names (its model), else every column of that name (fields stored elsewhere)."""
    names = {field.attribute or name for name, field in schema.fields.items()}
    tables = list(db.metadata.tables.values())
    best = max(tables, key=lambda table: len(names & set(table.columns.keys())))
    found: dict[str, list[sa.Column]] = {}
    for name in names:
        if name in best.columns:
            found[name] = [best.columns[name]]
        else:
            found[name] = [table.columns[name] for table in tables if name in table.columns]
    return found


def test_every_integer_field_of_a_body_has_a_range_that_fits_its_columns():
    _import_everything()
    problems = []
    checked = 0
    for schema_class in _input_schemas():
        schema = schema_class()
        columns = _columns_for(schema)
        for name, field in _numeric_fields(schema):
            low, high = _range(field)
            if isinstance(field, fields.Integer) and (low is None or high is None):
                problems.append(f"{schema_class.__name__}.{name}: integer without a range")
                continue
            for column in columns.get(name, []):
                limits = _column_limits(column)
                if limits is None or low is None or high is None:
                    continue
                checked += 1
                if Decimal(str(low)) < limits[0] or Decimal(str(high)) > limits[1]:
                    problems.append(
                        f"{schema_class.__name__}.{name} [{low}, {high}] does not fit "
                        f"{column.table.name}.{column.name} {column.type}"
                    )
    assert checked > 20
    assert problems == [], "\n".join(problems)


def test_body_integers_are_strict_in_every_input_schema():
    _import_everything()
    for schema_class in _input_schemas():
        for name, field in _numeric_fields(schema_class()):
            if isinstance(field, fields.Integer):
                assert field.strict, f"{schema_class.__name__}.{name}"
