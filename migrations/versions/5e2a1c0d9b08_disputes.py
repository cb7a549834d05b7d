"""disputes

Online dispute resolution: disputes, proposals, decisions, deadlines and payout holds.

Revision ID: 5e2a1c0d9b08
Revises: 5e2a1c0d9b07
Create Date: 2026-12-01 00:00:00

"""
from alembic import op
import sqlalchemy as sa

import marketplace.kernel.db_types


# revision identifiers, used by Alembic.
revision = '5e2a1c0d9b08'
down_revision = '5e2a1c0d9b07'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vendor_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payout_held', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('vendor_order_id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('open_vendor_order_id', sa.Integer(), nullable=True),
    sa.Column('return_id', sa.Integer(), nullable=True),
    sa.Column('type', sa.String(length=24), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('claim_amount', marketplace.kernel.db_types.ExactDecimal(20, 4), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('destination_country', sa.String(length=2), nullable=False),
    sa.Column('rule_id', sa.String(length=32), nullable=False),
    sa.Column('rule_source', sa.Text(), nullable=False),
    sa.Column('rule_effective_from', sa.String(length=10), nullable=False),
    sa.Column('acknowledge_by', marketplace.kernel.db_types.UtcDateTime(), nullable=False),
    sa.Column('resolve_by', marketplace.kernel.db_types.UtcDateTime(), nullable=False),
    sa.Column('acknowledged_at', marketplace.kernel.db_types.UtcDateTime(), nullable=True),
    sa.Column('overdue_at', marketplace.kernel.db_types.UtcDateTime(), nullable=True),
    sa.Column('decision_refund_amount', marketplace.kernel.db_types.ExactDecimal(20, 4), nullable=True),
    sa.Column('decision_reasons', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', marketplace.kernel.db_types.UtcDateTime(), nullable=True),
    sa.Column('refund_amount', marketplace.kernel.db_types.ExactDecimal(20, 4), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('created_at', marketplace.kernel.db_types.UtcDateTime(), nullable=False),
    sa.Column('updated_at', marketplace.kernel.db_types.UtcDateTime(), nullable=False),
    sa.Column('closed_at', marketplace.kernel.db_types.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_disputes_decided_by_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_disputes_order_id_orders')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_disputes_user_id_users')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_disputes_vendor_id_vendors')),
    sa.ForeignKeyConstraint(['vendor_order_id'], ['vendor_orders.id'],
                            name=op.f('fk_disputes_vendor_order_id_vendor_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes')),
    sa.UniqueConstraint('open_vendor_order_id', name=op.f('uq_disputes_open_vendor_order_id'))
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disputes_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disputes_vendor_order_id'), ['vendor_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disputes_vendor_id'), ['vendor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disputes_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disputes_return_id'), ['return_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disputes_stage'), ['stage'], unique=False)
        batch_op.create_index(batch_op.f('ix_disputes_resolve_by'), ['resolve_by'], unique=False)

    op.create_table('dispute_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.String(length=16), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('refund_amount', marketplace.kernel.db_types.ExactDecimal(20, 4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', marketplace.kernel.db_types.UtcDateTime(), nullable=False),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answered_at', marketplace.kernel.db_types.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by'], ['users.id'], name=op.f('fk_dispute_proposals_answered_by_users')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_dispute_proposals_author_id_users')),
    sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'], name=op.f('fk_dispute_proposals_dispute_id_disputes'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_proposals'))
    )
    with op.batch_alter_table('dispute_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_proposals_dispute_id'), ['dispute_id'], unique=False)

    op.create_table('dispute_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('from_stage', sa.String(length=16), nullable=True),
    sa.Column('to_stage', sa.String(length=16), nullable=False),
    sa.Column('party', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', marketplace.kernel.db_types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_dispute_events_actor_id_users')),
    sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'], name=op.f('fk_dispute_events_dispute_id_disputes'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_events'))
    )
    with op.batch_alter_table('dispute_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_events_dispute_id'), ['dispute_id'], unique=False)


def downgrade():
    with op.batch_alter_table('dispute_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_events_dispute_id'))
    op.drop_table('dispute_events')
    with op.batch_alter_table('dispute_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_proposals_dispute_id'))
    op.drop_table('dispute_proposals')
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        for name in ('resolve_by', 'stage', 'return_id', 'user_id', 'vendor_id', 'vendor_order_id', 'order_id'):
            batch_op.drop_index(batch_op.f(f'ix_disputes_{name}'))
    op.drop_table('disputes')
    with op.batch_alter_table('vendor_orders', schema=None) as batch_op:
        batch_op.drop_column('payout_held')
