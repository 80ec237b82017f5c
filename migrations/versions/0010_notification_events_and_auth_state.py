"""notification events (fanned out by the worker) and the auth state version

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03 13:40:00

`notification_events`: a request writes one row per domain event that notifies someone; the
notification worker turns it into inbox entries and pushes. `auth_state`: one row whose version
every change to a user or a login session moves, so each worker can keep its session checks in
memory and still see a logout or a demotion at once.
"""

import sqlalchemy as sa
from alembic import op

import backend.dbtypes

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification_events",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", backend.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_events")),
    )
    op.create_table(
        "auth_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_state")),
    )


def downgrade():
    op.drop_table("auth_state")
    op.drop_table("notification_events")
