"""Rule sets, and the generic store of the other TMF resources.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_set",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("last_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_table(
        "resource",
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(40), nullable=True),
        sa.Column("party_id", sa.String(128), nullable=True),
        sa.Column("partner_id", sa.String(128), nullable=True),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_index("ix_resource_party", "resource", ["kind", "party_id"])
    op.create_index("ix_resource_external", "resource", ["kind", "external_id"], unique=True)
    op.create_table(
        "resource_attribute",
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("resource_id", sa.String(128), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("value", sa.String(512), nullable=False),
        sa.ForeignKeyConstraint(["kind", "resource_id"], ["resource.kind", "resource.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_resource_attribute_lookup", "resource_attribute", ["kind", "path", "value", "resource_id"])
    op.create_index("ix_resource_attribute_resource", "resource_attribute", ["kind", "resource_id"])


def downgrade() -> None:
    op.drop_index("ix_resource_attribute_resource", "resource_attribute")
    op.drop_index("ix_resource_attribute_lookup", "resource_attribute")
    op.drop_table("resource_attribute")
    op.drop_index("ix_resource_external", "resource")
    op.drop_index("ix_resource_party", "resource")
    op.drop_table("resource")
    op.drop_table("rule_set")
