"""request ids on notification_events and notification_outbox

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 14:55:00

The id of the request that published an event, copied onto the pushes its fan-out queues, so
the notification worker's log lines about them name that request. Nullable (scheduled events
and older rows have none): adding a nullable column rewrites no table on either database.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("notification_events", sa.Column("request_id", sa.String(length=64)))
    op.add_column("notification_outbox", sa.Column("request_id", sa.String(length=64)))


def downgrade():
    # batch mode: SQLite before 3.35 cannot drop a column in place
    with op.batch_alter_table("notification_outbox") as batch:
        batch.drop_column("request_id")
    with op.batch_alter_table("notification_events") as batch:
        batch.drop_column("request_id")
