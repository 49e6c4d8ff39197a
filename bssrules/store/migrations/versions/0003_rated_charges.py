"""Rated charges per payer, for aggregation and bill runs.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rated_charge",
        sa.Column("usage_id", sa.String(128), primary_key=True),
        sa.Column("part", sa.Integer, primary_key=True),
        sa.Column("subscriber", sa.String(128), nullable=False),
        sa.Column("billing_account", sa.String(128), nullable=False),
        sa.Column("payer_role", sa.String(128), nullable=False),
        sa.Column("service", sa.String(128), nullable=False),
        sa.Column("offering", sa.String(128), nullable=True),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("bill_id", sa.String(200), nullable=True),
    )
    op.create_index("ix_rated_charge_account", "rated_charge", ["billing_account", "start"])
    op.create_index("ix_rated_charge_subscriber", "rated_charge", ["subscriber", "start"])


def downgrade() -> None:
    op.drop_table("rated_charge")
