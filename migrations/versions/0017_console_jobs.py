"""console jobs: long console actions run by a worker, with their per-row report

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-03 16:20:00

Written beside 0016 (another branch): it revises 0015 here and is re-pointed at 0016 when the
branches are merged. It only adds two tables, so the order of the two does not matter.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "console_jobs",
        sa.Column("id", sa.String(length=26), primary_key=True),
        sa.Column(
            "municipality_id",
            sa.String(length=26),
            sa.ForeignKey("municipalities.id"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=26), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=26), nullable=False),
        sa.Column("request_key", sa.String(length=128), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claim_id", sa.String(length=26)),
        sa.Column("claimed_until", sa.DateTime(timezone=True)),
        sa.Column("error_code", sa.String(length=64)),
        sa.Column("error_message", sa.String(length=500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("created_by", "request_key", name="uq_console_jobs_request"),
    )
    op.create_index("ix_console_jobs_municipality_id", "console_jobs", ["municipality_id"])
    # The worker looks for unfinished jobs only: a partial index keeps that small on PostgreSQL.
    op.create_index(
        "ix_console_jobs_unfinished",
        "console_jobs",
        ["status"],
        postgresql_where=sa.text("status IN ('queued', 'running')"),
        sqlite_where=sa.text("status IN ('queued', 'running')"),
    )
    op.create_table(
        "console_job_rows",
        sa.Column(
            "job_id",
            sa.String(length=26),
            sa.ForeignKey("console_jobs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=26)),
        sa.Column("subject", sa.String(length=254), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error_code", sa.String(length=64)),
        sa.Column("error_message", sa.String(length=500)),
    )


def downgrade():
    op.drop_table("console_job_rows")
    op.drop_index("ix_console_jobs_unfinished", table_name="console_jobs")
    op.drop_index("ix_console_jobs_municipality_id", table_name="console_jobs")
    op.drop_table("console_jobs")
