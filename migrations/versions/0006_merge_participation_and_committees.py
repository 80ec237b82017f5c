"""merge participation and committees

Both branched from 0001 (0002 participation, 0005 committees); this joins the two heads so
`flask db upgrade` has one target. Nothing to change in the schema.

Revision ID: 0006
Revises: 0002, 0005
Create Date: 2026-11-25 03:49:34.247421

"""

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = ('0002', '0005')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
