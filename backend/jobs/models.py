"""A console job and the per-row report it builds."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UTCDateTime, created_at_column, enum_type, id_column
from backend.extensions import db


class JobKind(enum.StrEnum):
    BULK_CONFIRM = "bulk_confirm"
    SHEET_IMPORT = "sheet_import"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


FINISHED = frozenset({JobStatus.DONE, JobStatus.FAILED})


class ConsoleJob(db.Model):
    """One long action an official asked for, with its input and how far the worker got."""

    __tablename__ = "console_jobs"
    __table_args__ = (
        # A retried submit (same form token or Idempotency-Key) finds the job it made.
        sa.UniqueConstraint("created_by", "request_key", name="uq_console_jobs_request"),
        # The worker looks for unfinished jobs only: a partial index keeps that small.
        sa.Index(
            "ix_console_jobs_unfinished",
            "status",
            postgresql_where=sa.text("status IN ('queued', 'running')"),
            sqlite_where=sa.text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("municipalities.id"), nullable=False, index=True
    )
    #: The official it runs as: every chunk reloads them and the services check them again.
    created_by: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("users.id"), nullable=False
    )
    kind: Mapped[JobKind] = mapped_column(enum_type(JobKind, "console_job_kind"), nullable=False)
    #: The activity the job works on.
    target_id: Mapped[str] = mapped_column(sa.String(26), nullable=False)
    request_key: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    #: Options of the whole job (the hours of a bulk confirmation).
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)
    #: The input, one item per row: participation ids, or sheet lines [line, who, attended].
    items: Mapped[list[Any]] = mapped_column(sa.JSON, nullable=False)
    total: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    #: Rows handled so far (the next chunk starts here); advanced only with the chunk's writes.
    done: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    status: Mapped[JobStatus] = mapped_column(
        enum_type(JobStatus, "console_job_status"), nullable=False, default=JobStatus.QUEUED
    )
    #: The worker holding the job and until when; a killed worker's job is free again after.
    claim_id: Mapped[str | None] = mapped_column(sa.String(26))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why the whole job stopped (a permission lost, the activity gone), when it failed.
    error_code: Mapped[str | None] = mapped_column(sa.String(64))
    error_message: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def finished(self) -> bool:
        """Whether the worker is through with it."""
        return self.status in FINISHED

    @property
    def percent(self) -> int:
        """How far along, 0-100."""
        return 100 if not self.total else int(100 * self.done / self.total)


class ConsoleJobRow(db.Model):
    """The outcome of one input row: written, or why not."""

    __tablename__ = "console_job_rows"

    #: (job, position) is the key: a chunk run twice cannot report a row twice.
    job_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("console_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    #: The sheet's line number, or the position + 1 for a bulk confirmation.
    line: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    #: The citizen's account, when the row named one that exists.
    user_id: Mapped[str | None] = mapped_column(sa.String(26))
    #: What the row said (the sheet's id, e-mail or phone), shown when no account matched.
    subject: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    ok: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    error_code: Mapped[str | None] = mapped_column(sa.String(64))
    error_message: Mapped[str | None] = mapped_column(sa.String(500))
