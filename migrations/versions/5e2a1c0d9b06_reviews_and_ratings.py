"""reviews and ratings

Verified reviews of order lines, their moderation and replies, and products' published rating.

Revision ID: 5e2a1c0d9b06
Revises: 5e2a1c0d9b05
Create Date: 2026-12-01 00:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '5e2a1c0d9b06'
down_revision = '5e2a1c0d9b05'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
