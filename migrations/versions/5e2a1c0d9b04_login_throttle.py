"""login throttle

Revision ID: 5e2a1c0d9b04
Revises: 5e2a1c0d9b03
Create Date: 2026-11-30 18:45:00

"""
from alembic import op
import sqlalchemy as sa

import marketplace.db_types


# revision identifiers, used by Alembic.
revision = '5e2a1c0d9b04'
down_revision = '5e2a1c0d9b03'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
