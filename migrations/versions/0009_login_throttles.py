"""login_throttles: failed logins of identifiers that name no account

Revision ID: 0009
Revises: 0011 (chained after main's latest so the branch has one head)
Create Date: 2026-12-03 13:40:00

An unknown login must be locked out after the same failures as a known one, or the lock-out
tells which accounts exist; their counters live here (keyed by an HMAC of the identifier).
"""

import sqlalchemy as sa
from alembic import op

import backend.dbtypes

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", backend.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", backend.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )


def downgrade():
    op.drop_table("login_throttles")
