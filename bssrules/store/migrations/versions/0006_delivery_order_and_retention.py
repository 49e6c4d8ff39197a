"""Deliveries in order per hub, retried for a retention: each delivery keeps its event's
creation (the order a hub is sent its events in) and since when it has been retried; events
are indexed by creation (a new one is made after the latest).

Existing deliveries take both from their event; those failed after the former 8 attempts
stay failed, and may now be redelivered.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("created", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("queued", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE delivery SET created = (SELECT event.created FROM event "
                       "WHERE event.id = delivery.event_id)"))
    # (a delivery without its event is never written; were there one, it counts from its next attempt)
    op.execute(sa.text("UPDATE delivery SET created = next_attempt WHERE created IS NULL"))
    op.execute(sa.text("UPDATE delivery SET queued = created"))
    with op.batch_alter_table("delivery") as batch:
        batch.alter_column("created", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.alter_column("queued", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.create_index("ix_delivery_hub", ["hub_id", "status", "created"])
    op.create_index("ix_event_created", "event", ["created"])


def downgrade() -> None:
    op.drop_index("ix_event_created", table_name="event")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_index("ix_delivery_hub")
        batch.drop_column("queued")
        batch.drop_column("created")
