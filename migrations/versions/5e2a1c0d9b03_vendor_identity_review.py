"""vendor identity review

Revision ID: 5e2a1c0d9b03
Revises: 5e2a1c0d9b02
Create Date: 2026-11-30 18:45:00

"""
from alembic import op
import sqlalchemy as sa

import marketplace.kernel.db_types


# revision identifiers, used by Alembic.
revision = '5e2a1c0d9b03'
down_revision = '5e2a1c0d9b02'
branch_labels = None
depends_on = None


def upgrade():
    # a changed payout account waits here for review; the reviewed one keeps receiving nothing meanwhile
    with op.batch_alter_table('vendors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_stripe_account_id', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('vendors', schema=None) as batch_op:
        batch_op.drop_column('pending_stripe_account_id')
