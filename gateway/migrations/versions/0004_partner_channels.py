"""partner channels: connector kind, direction and settings per partner (secret names only)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_channels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("poll_seconds", sa.Numeric(precision=10, scale=3, asdecimal=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_poll_ok", sa.Boolean(), nullable=True),
        sa.Column("last_poll_detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_channels_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_channels")),
        sa.UniqueConstraint("partner_id", "name", name=op.f("uq_partner_channels_partner_id")),
    )
    with op.batch_alter_table("partner_channels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_channels_partner_id"), ["partner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("partner_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_channels_partner_id"))

    op.drop_table("partner_channels")
