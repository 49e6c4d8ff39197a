"""An index on the generic resource table's owning partner: every list a partner asks for
(parties, accounts, inventory, carts, orders …) filters ``resource`` on ``kind`` and
``partner_id``, which no index served (``ix_resource_party`` is on ``party_id``). No data
changes.

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_resource_partner", "resource", ["kind", "partner_id"])


def downgrade() -> None:
    op.drop_index("ix_resource_partner", table_name="resource")
