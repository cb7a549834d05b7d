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

vendors = sa.table('vendors', sa.column('id', sa.Integer()), sa.column('country', sa.String(2)))
products = sa.table('products', sa.column('id', sa.Integer()), sa.column('vendor_id', sa.Integer()),
                    sa.column('origin_country', sa.String(2)))
order_lines = sa.table('order_lines', sa.column('product_id', sa.Integer()), sa.column('origin_country', sa.String(2)))


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
    # each product's own origin country, backfilled with its vendor's; order lines keep the one they were sold
    # with (backfilled from their product's). Only columns are added (nullable: no table is rebuilt on SQLite, so
    # the partner feed triggers on products stay); the backfill's UPDATE moves existing listings in the partner
    # feed once.
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin_country', sa.String(length=2), nullable=True))
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin_country', sa.String(length=2), nullable=True))
    op.execute(products.update().values(origin_country=sa.select(vendors.c.country)
                                        .where(vendors.c.id == products.c.vendor_id).scalar_subquery()))
    op.execute(order_lines.update().where(order_lines.c.product_id.isnot(None))
               .values(origin_country=sa.select(products.c.origin_country)
                       .where(products.c.id == order_lines.c.product_id).scalar_subquery()))


def downgrade():
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_column('origin_country')
    # plain ALTER (SQLite 3.35+ and PostgreSQL): a batch rebuild would drop the products' feed trigger
    op.execute('ALTER TABLE products DROP COLUMN origin_country')
    with op.batch_alter_table('vendors', schema=None) as batch_op:
        for name in reversed(VENDOR_DISCLOSURES):
            batch_op.drop_column(name)
    with op.batch_alter_table('order_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_messages_vendor_order_id'))
    op.drop_table('order_messages')
