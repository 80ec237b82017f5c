"""certificates: printed issue numbers (발급번호); door check-in scans (check_in_scans)

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-03 13:40:00

Every certificate gets a random 16-digit issue number with a Damm check digit (see
backend/certification/issue_number.py). Existing certificates are given one here, drawn the same
way, before the column becomes NOT NULL and UNIQUE; `batch_alter_table` rebuilds the table on
SQLite, which cannot alter a column in place.

`check_in_scans` keeps every ticket scan a door device sent (online or queued offline), keyed
by the device's scan id, so that a re-sent queue counts once and conflicts are remembered.
"""

import secrets

import sqlalchemy as sa
from alembic import op

from backend.dbtypes import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def _issue_number() -> str:
    # A copy frozen with this migration: the app's generator may change, the backfill must not.
    body = "".join(str(secrets.randbelow(10)) for _ in range(15))
    interim = 0
    for digit in body:
        interim = _DAMM[interim][int(digit)]
    return body + str(interim)


def upgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issue_number", sa.String(length=16), nullable=True))
    connection = op.get_bind()
    ids = connection.execute(sa.text("SELECT id FROM certificates")).scalars().all()
    taken: set[str] = set()
    for certificate_id in ids:
        while (number := _issue_number()) in taken:
            pass
        taken.add(number)
        connection.execute(
            sa.text("UPDATE certificates SET issue_number = :number WHERE id = :id"),
            {"number": number, "id": certificate_id},
        )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.alter_column("issue_number", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_certificates_issue_number"), ["issue_number"]
        )


    op.create_table(
        "check_in_scans",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("scan_id", sa.String(length=64), nullable=False),
        sa.Column("meeting_id", sa.String(length=26), nullable=False),
        sa.Column("registration_id", sa.String(length=26), nullable=True),
        sa.Column("scanned_by_id", sa.String(length=26), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("scanned_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_check_in_scans_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["meeting_registrations.id"],
            name=op.f("fk_check_in_scans_registration_id_meeting_registrations"),
        ),
        sa.ForeignKeyConstraint(
            ["scanned_by_id"], ["users.id"], name=op.f("fk_check_in_scans_scanned_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in_scans")),
        sa.UniqueConstraint("scan_id", name=op.f("uq_check_in_scans_scan_id")),
    )
    op.create_index(
        "ix_check_in_scans_meeting", "check_in_scans", ["meeting_id", "received_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_check_in_scans_meeting", table_name="check_in_scans")
    op.drop_table("check_in_scans")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_certificates_issue_number"), type_="unique")
        batch_op.drop_column("issue_number")
