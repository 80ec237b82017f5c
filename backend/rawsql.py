"""Core statements compiled once and run straight on a DBAPI cursor: for the few hot paths.

SQLAlchemy's execution layer (statement cache key, execution context, result objects) costs
25-40 us a statement; a request that runs a dozen statements spends more there than in the
database. A `RawStatement` is the same Core statement the services use, compiled once per
dialect with named parameters, its values converted by the column types' own bind and result
processors, so the stored bytes are exactly what the ORM would store and read back.

Only statements without expanding (`IN` list) parameters; SQLite (`sqlite3`) and PostgreSQL
(`psycopg2`), the two databases the platform runs on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any]


def _named(dialect: Dialect) -> Dialect:
    # sqlite3 also understands :name; compiling that way lets every call pass a dict.
    if dialect.paramstyle in ("named", "pyformat"):
        return dialect
    return type(dialect)(paramstyle="named")


class RawStatement:
    """One Core statement compiled for one dialect, run on a DBAPI cursor."""

    def __init__(
        self, statement: sa.Executable, dialect: Dialect, *, keys: list[str] | None = None
    ):
        target = _named(dialect)
        compiled = statement.compile(dialect=target, column_keys=keys)
        self.sql: str = compiled.string
        self._compiled = compiled
        self._bind: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(target).bind_processor(target)
            if processor is not None:
                self._bind[name] = processor
        self._result: list[Processor | None] = []
        if isinstance(statement, sa.Select):
            self._result = [
                column.type.dialect_impl(target).result_processor(target, None)
                for column in statement.selected_columns
            ]

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The driver's parameters: defaults of literal binds filled in, values converted."""
        params = self._compiled.construct_params(values)
        for name, processor in self._bind.items():
            if name in params and params[name] is not None:
                params[name] = processor(params[name])
        return params

    def execute(self, cursor: Any, values: Mapping[str, Any] | None = None) -> int:
        """Run the statement; returns the rows it changed (for UPDATE / DELETE / INSERT)."""
        cursor.execute(self.sql, self.params(values or {}))
        return cursor.rowcount

    def first(self, cursor: Any, values: Mapping[str, Any] | None = None) -> tuple | None:
        """Run a SELECT and return its first row as Python values, or None."""
        cursor.execute(self.sql, self.params(values or {}))
        row = cursor.fetchone()
        if row is None:
            return None
        return tuple(
            value if processor is None or value is None else processor(value)
            for processor, value in zip(self._result, row, strict=True)
        )


class RawStatements:
    """Compiles each statement once per dialect, on first use."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str], RawStatement] = {}

    def get(
        self, statement: sa.Executable, dialect: Dialect, *, keys: list[str] | None = None
    ) -> RawStatement:
        """The compiled form of `statement` for `dialect`."""
        cache_key = (id(statement), dialect.name)
        raw = self._cache.get(cache_key)
        if raw is None:
            raw = self._cache[cache_key] = RawStatement(statement, dialect, keys=keys)
        return raw
