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
        self._bind: dict[str, Processor] = {}
        #: Literal values the statement carries itself (`count + 1` binds its 1).
        self._defaults: dict[str, Any] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(target).bind_processor(target)
            if processor is not None:
                self._bind[name] = processor
            if bind.value is not None:
                self._defaults[name] = bind.value
        self._result: list[Processor | None] = []
        if isinstance(statement, sa.Select):
            self._result = [
                column.type.dialect_impl(target).result_processor(target, None)
                for column in statement.selected_columns
            ]

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The driver's parameters: defaults of literal binds filled in, values converted."""
        params = {**self._defaults, **values}
        for name, processor in self._bind.items():
            value = params.get(name)
            if value is not None:
                params[name] = processor(value)
        return params

    def execute(self, cursor: Any, values: Mapping[str, Any] | None = None) -> int:
        """Run the statement; returns the rows it changed (for UPDATE / DELETE / INSERT)."""
        cursor.execute(self.sql, self.params(values or {}))
        return cursor.rowcount

    def first(self, cursor: Any, values: Mapping[str, Any] | None = None) -> tuple | None:
        """Run a SELECT and return its first row as Python values, or None."""
        cursor.execute(self.sql, self.params(values or {}))
        row = cursor.fetchone()
        return None if row is None else self._convert(row)

    def all(self, cursor: Any, values: Mapping[str, Any] | None = None) -> list[tuple]:
        """Run a SELECT and return every row as Python values."""
        cursor.execute(self.sql, self.params(values or {}))
        return [self._convert(row) for row in cursor.fetchall()]

    def _convert(self, row: tuple) -> tuple:
        return tuple(
            value if processor is None or value is None else processor(value)
            for processor, value in zip(self._result, row, strict=True)
        )


class RawStatements:
    """Compiles each module-level statement once per dialect (and column set), on first use."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str, tuple[str, ...] | None], RawStatement] = {}

    def get(
        self, statement: sa.Executable, dialect: Dialect, *, keys: tuple[str, ...] | None = None
    ) -> RawStatement:
        """The compiled form of `statement` for `dialect` (an INSERT for the given columns)."""
        cache_key = (id(statement), dialect.name, keys)
        raw = self._cache.get(cache_key)
        if raw is None:
            compiled = RawStatement(statement, dialect, keys=list(keys) if keys else None)
            raw = self._cache[cache_key] = compiled
        return raw


_STATEMENTS = RawStatements()


class RawConnection:
    """One transaction of a hot path on a pooled DBAPI connection, outside the ORM session.

    Used as a context manager: whatever was not committed is rolled back on exit, and the
    connection goes back to the pool. On SQLite the first write waits for the writer queue
    (`backend.database`), as every write through the engine does.
    """

    def __init__(self, engine: sa.Engine) -> None:
        from backend.database import writer_queue

        self.dialect = engine.dialect
        self._connection = engine.raw_connection()
        self._cursor = self._connection.cursor()
        self._writer = writer_queue(engine)
        self._writing = False

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            if self._writing:
                self.rollback()
        finally:
            self._cursor.close()
            self._connection.close()

    def first(self, statement: sa.Select, values: Mapping[str, Any]) -> tuple | None:
        """The first row of a SELECT, as Python values, or None."""
        return _STATEMENTS.get(statement, self.dialect).first(self._cursor, values)

    def all(self, statement: sa.Select, values: Mapping[str, Any]) -> list[tuple]:
        """Every row of a SELECT, as Python values."""
        return _STATEMENTS.get(statement, self.dialect).all(self._cursor, values)

    def execute(self, statement: sa.Executable, values: Mapping[str, Any]) -> int:
        """Run a write; returns the rows it changed."""
        if not self._writing:
            if self._writer is not None:
                self._writer.acquire(self._connection.dbapi_connection)
            self._writing = True
        keys = tuple(values) if isinstance(statement, sa.Insert) else None
        return _STATEMENTS.get(statement, self.dialect, keys=keys).execute(self._cursor, values)

    def commit(self) -> None:
        """Commit, and let the next writer in."""
        try:
            self._connection.commit()
        finally:
            self._end_write()

    def rollback(self) -> None:
        """Roll back, and let the next writer in."""
        try:
            self._connection.rollback()
        finally:
            self._end_write()

    def _end_write(self) -> None:
        if self._writer is not None and self._writing:
            self._writer.release(self._connection.dbapi_connection)
        self._writing = False
