"""returns

Returns of delivered goods: requests, their lines, and the history of their states.

Revision ID: 5e2a1c0d9b07
Revises: 5e2a1c0d9b06
Create Date: 2026-12-01 00:00:00

"""
from alembic import op
import sqlalchemy as sa

import marketplace.kernel.db_types


# revision identifiers, used by Alembic.
revision = '5e2a1c0d9b07'
down_revision = '5e2a1c0d9b06'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('returns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('vendor_order_id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resolution', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('refund_amount', marketplace.kernel.db_types.ExactDecimal(20, 4), nullable=False),
    sa.Column('refunded_amount', marketplace.kernel.db_types.ExactDecimal(20, 4), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('dispute_id', sa.Integer(), nullable=True),
    sa.Column('carrier', sa.String(length=64), nullable=True),
    sa.Column('tracking_number', sa.String(length=64), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('answer_by', marketplace.kernel.db_types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_at', marketplace.kernel.db_types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', marketplace.kernel.db_types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_returns_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vendor_order_id'], ['vendor_orders.id'],
                            name=op.f('fk_returns_vendor_order_id_vendor_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_returns_vendor_id_vendors')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_returns_user_id_users')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_returns_refund_id_refunds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_returns'))
    )
    with op.batch_alter_table('returns', schema=None) as batch_op:
        for column in ('order_id', 'vendor_order_id', 'vendor_id', 'user_id', 'status', 'answer_by'):
            batch_op.create_index(batch_op.f(f'ix_returns_{column}'), [column], unique=False)

    op.create_table('return_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=24), nullable=False),
    sa.Column('unit_price_amount', marketplace.kernel.db_types.ExactDecimal(20, 4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.ForeignKeyConstraint(['return_id'], ['returns.id'], name=op.f('fk_return_lines_return_id_returns'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'],
                            name=op.f('fk_return_lines_order_line_id_order_lines'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_lines'))
    )
    with op.batch_alter_table('return_lines', schema=None) as batch_op:
        for column in ('return_id', 'order_line_id', 'reason'):
            batch_op.create_index(batch_op.f(f'ix_return_lines_{column}'), [column], unique=False)

    op.create_table('return_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', marketplace.kernel.db_types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['return_id'], ['returns.id'], name=op.f('fk_return_status_changes_return_id_returns'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_return_status_changes_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_status_changes'))
    )
    with op.batch_alter_table('return_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_status_changes_return_id'), ['return_id'], unique=False)


def downgrade():
    with op.batch_alter_table('return_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_status_changes_return_id'))
    op.drop_table('return_status_changes')
    with op.batch_alter_table('return_lines', schema=None) as batch_op:
        for column in ('return_id', 'order_line_id', 'reason'):
            batch_op.drop_index(batch_op.f(f'ix_return_lines_{column}'))
    op.drop_table('return_lines')
    with op.batch_alter_table('returns', schema=None) as batch_op:
        for column in ('order_id', 'vendor_order_id', 'vendor_id', 'user_id', 'status', 'answer_by'):
            batch_op.drop_index(batch_op.f(f'ix_returns_{column}'))
    op.drop_table('returns')
