"""disputes

Online dispute resolution: disputes, proposals, decisions, deadlines and payout holds.

Revision ID: 5e2a1c0d9b08
Revises: 5e2a1c0d9b07
Create Date: 2026-12-01 00:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '5e2a1c0d9b08'
down_revision = '5e2a1c0d9b07'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
