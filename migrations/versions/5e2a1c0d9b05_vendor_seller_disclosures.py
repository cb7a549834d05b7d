"""vendor seller disclosures, product origin country and order messages

Vendors gain the disclosures consumer-protection rules ask a marketplace to show; products their own origin
country; vendor orders a message thread.

Revision ID: 5e2a1c0d9b05
Revises: 5e2a1c0d9b04
Create Date: 2026-12-01 00:00:00

"""
from alembic import op
import sqlalchemy as sa

import marketplace.kernel.db_types


# revision identifiers, used by Alembic.
revision = '5e2a1c0d9b05'
down_revision = '5e2a1c0d9b04'
branch_labels = None
depends_on = None

VENDOR_DISCLOSURES = ('address', 'customer_care', 'grievance_officer', 'return_policy')


def upgrade():
    op.create_table('order_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_order_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_role', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('event', sa.String(length=64), nullable=True),
    sa.Column('params', sa.JSON(), nullable=True),
    sa.Column('created_at', marketplace.kernel.db_types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_order_messages_author_id_users')),
    sa.ForeignKeyConstraint(['vendor_order_id'], ['vendor_orders.id'],
                            name=op.f('fk_order_messages_vendor_order_id_vendor_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_messages'))
    )
    with op.batch_alter_table('order_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_messages_vendor_order_id'), ['vendor_order_id'], unique=False)
    # seller disclosures: nullable JSON, so existing vendors keep their status and are asked to complete them
    # (only columns are added: SQLite does not rebuild the table)
    with op.batch_alter_table('vendors', schema=None) as batch_op:
        for name in VENDOR_DISCLOSURES:
            batch_op.add_column(sa.Column(name, sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('vendors', schema=None) as batch_op:
        for name in reversed(VENDOR_DISCLOSURES):
            batch_op.drop_column(name)
    with op.batch_alter_table('order_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_messages_vendor_order_id'))
    op.drop_table('order_messages')
