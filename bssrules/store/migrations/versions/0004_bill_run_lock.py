"""A row that bill runs lock, so that two runs of one month never interleave.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    counter = sa.table("counter", sa.column("name", sa.String), sa.column("value", sa.Integer))
    op.bulk_insert(counter, [{"name": "bill-run", "value": 0}])


def downgrade() -> None:
    op.execute("DELETE FROM counter WHERE name = 'bill-run'")
