"""Core statements compiled once and run straight on a DBAPI cursor: for the few hot paths.

SQLAlchemy's execution layer (statement cache key, execution context, result objects) costs
25-40 us a statement; a request that runs a dozen statements spends more there than in the
database. A `RawStatement` is the same Core statement the services use, compiled once per
dialect with named parameters, its values converted by the column types' own bind and result
processors, so the stored bytes are exactly what the ORM would store and read back.

Only statements without expanding (`IN` list) parameters; SQLite (`sqlite3`) and PostgreSQL
(`psycopg2`), the two databases the platform runs on.

On PostgreSQL a hot path pays per statement: a round trip (70-250 us of wall time on these
machines) and a parse, plan and executor start in the server. So `RawConnection.read` runs
several SELECTs as one, `RawConnection.write_if` writes several rows behind one conditional
UPDATE as one statement (data-modifying CTEs, in autocommit: the statement is its own
transaction; on SQLite, one short transaction), each statement is prepared once per
connection, and the connection is kept between requests (`_HeldConnection`).
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

Processor = Callable[[Any], Any]


def _named(dialect: Dialect) -> Dialect:
    # sqlite3 also understands :name; compiling that way lets every call pass a dict.
    if dialect.paramstyle in ("named", "pyformat"):
        return dialect
    return type(dialect)(paramstyle="named")


#: A named parameter of a statement compiled for psycopg2.
_PYFORMAT = re.compile(r"%\((\w+)\)s")
_NAMES = itertools.count(1)


class RawStatement:
    """One Core statement compiled for one dialect, run on a DBAPI cursor.

    On PostgreSQL it is also a server-side prepared statement (`PREPARE` once per
    connection, then `EXECUTE`): the server parses and plans it once, not on every request.
    A combined read or write costs a millisecond to plan and a tenth of that to run.
    """

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
        self.name = f"raw_{next(_NAMES)}"
        self._prepare_sql = self._execute_sql = None
        if dialect.name == "postgresql":
            self._prepare_sql, self._execute_sql = _prepared_forms(self.sql, self.name)

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The driver's parameters: defaults of literal binds filled in, values converted."""
        params = {**self._defaults, **values}
        for name, processor in self._bind.items():
            value = params.get(name)
            if value is not None:
                params[name] = processor(value)
        return params

    def run(self, cursor: Any, values: Mapping[str, Any], prepared: set[str] | None) -> None:
        """Send the statement: as itself, or when `prepared` (the names this connection has
        prepared) is given, as an EXECUTE of the prepared statement, preparing it first."""
        params = self.params(values)
        if prepared is None or self._execute_sql is None:
            cursor.execute(self.sql, params)
            return
        if self.name not in prepared:
            cursor.execute(self._prepare_sql, {})
            prepared.add(self.name)
        cursor.execute(self._execute_sql, params)

    def convert(self, row: tuple) -> tuple:
        """A fetched row as Python values."""
        return tuple(
            value if processor is None or value is None else processor(value)
            for processor, value in zip(self._result, row, strict=True)
        )


def _prepared_forms(sql: str, name: str) -> tuple[str | None, str | None]:
    """`PREPARE name AS ...` with $n parameters, and its `EXECUTE name (%(a)s, ...)`; None
    for a statement with a literal percent sign, which would not survive the rewrite."""
    if "%%" in sql:
        return None, None
    order: dict[str, int] = {}
    for found in _PYFORMAT.finditer(sql):
        order.setdefault(found.group(1), len(order) + 1)
    prepare = f"PREPARE {name} AS " + _PYFORMAT.sub(lambda m: f"${order[m.group(1)]}", sql)
    arguments = ", ".join(f"%({param})s" for param in order)
    return prepare, f"EXECUTE {name} ({arguments})" if order else f"EXECUTE {name}"


class Read(NamedTuple):
    """One SELECT of a combined read and its values. A `many` read keeps every row; any other
    read must find at most one row (a lookup by a unique key)."""

    statement: sa.Select
    values: Mapping[str, Any]
    many: bool = False


class Write(NamedTuple):
    """One row to insert: an INSERT statement and the row's values (every column it sets)."""

    statement: sa.Insert
    row: Mapping[str, Any]


def _prefixed(statement: sa.Select, prefix: str) -> sa.Select:
    """The statement with its named parameters renamed `prefix + name` (anonymous ones, the
    statement's own literals, keep their values and need no name)."""

    def rename(element: Any, **_kw: Any) -> Any:
        if isinstance(element, BindParameter) and not element.unique:
            return sa.bindparam(prefix + element.key, value=element.value, type_=element.type)
        return None

    return visitors.replacement_traverse(statement, {}, rename)


def side_by_side(statements: Sequence[sa.Select]) -> sa.Select:
    """One SELECT of every statement's columns, each followed by a marker column that is NULL
    when the statement found nothing: `r{i}_` prefixes statement i's parameters. Rows multiply
    only by a statement that finds several, so only one (the last) may."""
    joined: Any = sa.select(sa.literal_column("1").label("anchor")).subquery("anchor")
    columns: list[Any] = []
    for index, statement in enumerate(statements):
        found = sa.literal_column("1").label(f"found_{index}")
        part = _prefixed(statement, f"r{index}_").add_columns(found).subquery(f"r{index}")
        joined = joined.outerjoin(part, sa.true())
        columns.extend(part.c)
    return sa.select(*columns).select_from(joined)


def guarded_inserts(guard: sa.Update, shapes: Sequence[tuple[sa.Insert, tuple[str, ...]]]) -> Any:
    """One PostgreSQL statement: `guard` (a conditional UPDATE), then each INSERT of one row
    (`w{i}_<column>` parameters) only if the guard changed a row; answers that row count."""
    passed = guard.returning(sa.literal_column("1").label("passed")).cte("guard")
    inserts = []
    for index, (insert, keys) in enumerate(shapes):
        table = insert.table
        row = sa.select(
            *(sa.bindparam(f"w{index}_{key}", type_=table.c[key].type) for key in keys)
        ).select_from(passed)
        inserts.append(insert.from_select(list(keys), row, include_defaults=False).cte(f"w{index}"))
    return sa.select(sa.func.count()).select_from(passed).add_cte(*inserts)


class RawStatements:
    """Compiles each module-level statement once per dialect (and column set), on first use."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, ...], RawStatement] = {}

    def get(
        self, statement: sa.Executable, dialect: Dialect, *, keys: tuple[str, ...] | None = None
    ) -> RawStatement:
        """The compiled form of `statement` for `dialect` (an INSERT for the given columns)."""
        return self.combined((id(statement), keys), lambda: statement, dialect, keys=keys)

    def combined(
        self,
        key: tuple[Any, ...],
        build: Callable[[], Any],
        dialect: Dialect,
        *,
        keys: tuple[str, ...] | None = None,
    ) -> RawStatement:
        """The compiled statement `build()` makes, built and compiled once per `key`."""
        cache_key = (key, dialect.name)
        raw = self._cache.get(cache_key)
        if raw is None:
            compiled = RawStatement(build(), dialect, keys=list(keys) if keys else None)
            raw = self._cache[cache_key] = compiled
        return raw


_STATEMENTS = RawStatements()


class _HeldConnection:
    """A DBAPI connection the hot paths keep instead of borrowing one from the pool per
    request: no checkout, no pre-ping round trip, no reset on return, and on PostgreSQL its
    prepared statements stay. An error discards it; the next request takes a fresh one from
    the pool (pre-pinged, so a restarted server is noticed there)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.connection = engine.raw_connection()
        #: PostgreSQL runs in autocommit: a read needs no BEGIN, `write_if` is one statement.
        self.autocommit = engine.dialect.name == "postgresql"
        if self.autocommit:
            self.connection.dbapi_connection.autocommit = True
        self.prepared: set[str] | None = set() if self.autocommit else None
        self.cursor = self.connection.cursor()

    def discard(self) -> None:
        """Close it for good (the pool opens another in its place when asked)."""
        self.connection.invalidate()


class _Spares:
    """The idle held connections of one engine in this process: a request takes one (or
    opens one) and gives it back, so there are never more than the requests at once."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.idle: list[_HeldConnection] = []
        #: A forked child's copies of its parent's connections: never used, never closed
        #: (closing would end the parent's session), only kept from the garbage collector.
        self.inherited: list[_HeldConnection] = []


_SPARES: weakref.WeakKeyDictionary[sa.Engine, _Spares] = weakref.WeakKeyDictionary()
_SPARES_GUARD = threading.Lock()


def _take_held(engine: sa.Engine) -> _HeldConnection:
    with _SPARES_GUARD:
        spares = _SPARES.get(engine)
        if spares is None:
            spares = _SPARES[engine] = _Spares()
        if spares.pid != os.getpid():
            spares.inherited.extend(spares.idle)
            spares.idle, spares.pid = [], os.getpid()
        if spares.idle:
            return spares.idle.pop()
    return _HeldConnection(engine)


def _give_back(engine: sa.Engine, held: _HeldConnection) -> None:
    with _SPARES_GUARD:
        spares = _SPARES.get(engine)
        if spares is not None and spares.pid == os.getpid():
            spares.idle.append(held)


class RawConnection:
    """One transaction of a hot path on a held DBAPI connection, outside the ORM session.

    Used as a context manager: whatever was not committed is rolled back on exit; after an
    exception the connection is discarded. On SQLite the first write waits for the writer
    queue (`backend.database`), as every write through the engine does.
    """

    def __init__(self, engine: sa.Engine) -> None:
        from backend.database import writer_queue

        self.dialect = engine.dialect
        self._engine = engine
        self._held = _take_held(engine)
        self._connection = self._held.connection
        self._cursor = self._held.cursor
        self._autocommit = self._held.autocommit
        self._prepared = self._held.prepared
        self._writer = writer_queue(engine)
        self._writing = False

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, exc_type: Any, *_exc: object) -> None:
        try:
            if self._writing:
                self.rollback()
        except Exception:
            self._held.discard()
            raise
        if exc_type is None:
            _give_back(self._engine, self._held)
        else:
            self._held.discard()

    def read(self, *reads: Read) -> list[Any]:
        """Run the reads as one SELECT: for each, its first row (or None), or for a `many`
        read (only the last may be one) the list of its rows."""
        if any(read.many for read in reads[:-1]):
            raise ValueError("only the last read may find several rows")
        statements = tuple(read.statement for read in reads)
        raw = _STATEMENTS.combined(
            tuple(map(id, statements)), lambda: side_by_side(statements), self.dialect
        )
        values = {
            f"r{index}_{name}": value
            for index, read in enumerate(reads)
            for name, value in read.values.items()
        }
        raw.run(self._cursor, values, self._prepared)
        rows = [raw.convert(row) for row in self._cursor.fetchall()]
        answers: list[Any] = []
        start = 0
        for read in reads:
            width = len(read.statement.selected_columns)
            parts = [row[start : start + width] for row in rows if row[start + width] is not None]
            answers.append(parts if read.many else (parts[0] if parts else None))
            start += width + 1
        return answers

    def write_if(
        self, guard: sa.Update, values: Mapping[str, Any], writes: Sequence[Write]
    ) -> bool:
        """Run `guard` and, only if it changed a row, insert the rows; False (and nothing
        written) when it changed none. Commit afterwards."""
        if not self._autocommit:
            # Parameters converted first: the writer's turn (SQLite's one writer) is held
            # only for the statements themselves and the commit.
            bound = [self._bound(guard, values)]
            bound.extend(self._bound(write.statement, write.row) for write in writes)
            self._begin_write()
            for index, (sql, params) in enumerate(bound):
                self._cursor.execute(sql, params)
                if index == 0 and self._cursor.rowcount == 0:
                    return False
            return True
        shapes = tuple((write.statement, tuple(write.row)) for write in writes)
        key = (id(guard), *((id(statement), keys) for statement, keys in shapes))
        raw = _STATEMENTS.combined(key, lambda: guarded_inserts(guard, shapes), self.dialect)
        params = dict(values)
        for index, write in enumerate(writes):
            params.update((f"w{index}_{name}", value) for name, value in write.row.items())
        raw.run(self._cursor, params, self._prepared)
        (changed,) = self._cursor.fetchone()
        return changed > 0

    def _bound(self, statement: sa.Executable, values: Mapping[str, Any]) -> tuple[str, dict]:
        keys = tuple(values) if isinstance(statement, sa.Insert) else None
        raw = _STATEMENTS.get(statement, self.dialect, keys=keys)
        return raw.sql, raw.params(values)

    def _begin_write(self) -> None:
        if not self._writing:
            if self._writer is not None:
                self._writer.acquire(self._connection.dbapi_connection)
            self._writing = True

    def commit(self) -> None:
        """Commit, and let the next writer in."""
        try:
            if not self._autocommit:
                self._connection.commit()
        finally:
            self._end_write()

    def rollback(self) -> None:
        """Roll back, and let the next writer in."""
        try:
            if not self._autocommit:
                self._connection.rollback()
        finally:
            self._end_write()

    def _end_write(self) -> None:
        if self._writer is not None and self._writing:
            self._writer.release(self._connection.dbapi_connection)
        self._writing = False
