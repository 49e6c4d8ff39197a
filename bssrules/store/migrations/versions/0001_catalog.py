"""The catalog: entities, their attribute index, shared counters.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_entity",
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("lifecycle_status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("last_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_table(
        "catalog_attribute",
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(128), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("value", sa.String(512), nullable=False),
        sa.ForeignKeyConstraint(["kind", "entity_id"], ["catalog_entity.kind", "catalog_entity.id"],
                                ondelete="CASCADE"),
    )
    op.create_index("ix_catalog_attribute_lookup", "catalog_attribute", ["kind", "path", "value", "entity_id"])
    op.create_index("ix_catalog_attribute_entity", "catalog_attribute", ["kind", "entity_id"])
    op.create_table(
        "counter",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("counter")
    op.drop_index("ix_catalog_attribute_entity", "catalog_attribute")
    op.drop_index("ix_catalog_attribute_lookup", "catalog_attribute")
    op.drop_table("catalog_attribute")
    op.drop_table("catalog_entity")
