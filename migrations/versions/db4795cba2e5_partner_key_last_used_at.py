"""partner key last_used_at

Revision ID: db4795cba2e5
Revises: 3883201d2965
Create Date: 2026-11-22 15:24:26.157650

"""
from alembic import op
import sqlalchemy as sa

import marketplace.kernel.db_types


# revision identifiers, used by Alembic.
revision = 'db4795cba2e5'
down_revision = '3883201d2965'
branch_labels = None
depends_on = None


def upgrade():
    # nullable, no default: existing keys read "never used" until their next request
    with op.batch_alter_table('partner_api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', marketplace.kernel.db_types.UtcDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('partner_api_keys', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
