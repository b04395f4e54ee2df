"""as2: received Message-IDs (duplicate detection) and sent messages with their MDN status

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 18:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "as2_received",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("as2_from", sa.String(length=128), nullable=False),
        sa.Column("as2_to", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_as2_received")),
        sa.UniqueConstraint("as2_from", "as2_to", "message_id", name=op.f("uq_as2_received_as2_from")),
    )
    with op.batch_alter_table("as2_received", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_as2_received_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_as2_received_claimed_at"), ["claimed_at"], unique=False)

    op.create_table(
        "as2_sent",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("as2_from", sa.String(length=128), nullable=False),
        sa.Column("as2_to", sa.String(length=128), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("mic", sa.String(length=128), nullable=True),
        sa.Column("mic_algorithm", sa.String(length=16), nullable=True),
        sa.Column("mdn_mode", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("disposition", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mdn_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_as2_sent")),
        sa.UniqueConstraint("message_id", name=op.f("uq_as2_sent_message_id")),
    )
    with op.batch_alter_table("as2_sent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_as2_sent_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_as2_sent_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_as2_sent_sent_at"), ["sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("as2_sent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_as2_sent_sent_at"))
        batch_op.drop_index(batch_op.f("ix_as2_sent_status"))
        batch_op.drop_index(batch_op.f("ix_as2_sent_partner_id"))
    op.drop_table("as2_sent")

    with op.batch_alter_table("as2_received", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_as2_received_claimed_at"))
        batch_op.drop_index(batch_op.f("ix_as2_received_partner_id"))
    op.drop_table("as2_received")
