"""The event outbox and the delivery of events to hubs.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("api", sa.String(20), nullable=False),
        sa.Column("partner_id", sa.String(128), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_table(
        "delivery",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("hub_id", sa.String(128), primary_key=True),
        sa.Column("callback", sa.String(2000), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(2000), nullable=True),
        sa.Column("delivered", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_delivery_due", "delivery", ["status", "next_attempt"])


def downgrade() -> None:
    op.drop_table("delivery")
    op.drop_table("event")
