"""order landed cost

Vendor orders keep the landed cost quoted at checkout (shipping service, price and delivery estimate; the
duties and import taxes with their rule, the incoterm, China's quota amount and the identity digest it counts
under); order lines keep what the customs declaration needs (HS code, customs description, unit weight);
refunds keep what they gave back of goods, shipping, and duties and taxes. Nullable or defaulted columns only: no table is rebuilt.

Revision ID: 5e2a1c0d9b0b
Revises: 5e2a1c0d9b0a
Create Date: 2026-12-01 01:00:00

"""
from alembic import op
import sqlalchemy as sa

from marketplace.kernel.db_types import ExactDecimal


# revision identifiers, used by Alembic.
revision = '5e2a1c0d9b0b'
down_revision = '5e2a1c0d9b0a'
branch_labels = None
depends_on = None

VENDOR_ORDER_COLUMNS = (
    ('shipping_service', sa.String(length=32), None),
    ('shipping_amount', ExactDecimal(20, 4), '0'),
    ('vendor_shipping_amount', ExactDecimal(20, 4), '0'),
    ('delivery_min_days', sa.Integer(), None),
    ('delivery_max_days', sa.Integer(), None),
    ('customs_value_amount', ExactDecimal(20, 4), None),
    ('duties', sa.JSON(), None),
    ('duties_amount', ExactDecimal(20, 4), '0'),
    ('duties_estimate_amount', ExactDecimal(20, 4), None),
    ('incoterm', sa.String(length=3), None),
    ('duty_rule', sa.JSON(), None),
    ('cbec_quota_amount', ExactDecimal(20, 4), None),
    ('customs_identity_digest', sa.String(length=64), None),
)
LINE_COLUMNS = (('hs_code', sa.String(length=6)), ('customs_description', sa.String(length=200)),
                ('weight_g', sa.Integer()))


def upgrade():
    for name, type_, default in VENDOR_ORDER_COLUMNS:
        op.add_column('vendor_orders', sa.Column(name, type_, nullable=default is None, server_default=default))
    op.create_index('ix_vendor_orders_customs_identity_digest', 'vendor_orders', ['customs_identity_digest'])
    for name, type_ in LINE_COLUMNS:
        op.add_column('order_lines', sa.Column(name, type_, nullable=True))
    op.add_column('refunds', sa.Column('parts', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_column('parts')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        for name, _type in reversed(LINE_COLUMNS):
            batch_op.drop_column(name)
    op.drop_index('ix_vendor_orders_customs_identity_digest', table_name='vendor_orders')
    with op.batch_alter_table('vendor_orders', schema=None) as batch_op:
        for name, _type, _default in reversed(VENDOR_ORDER_COLUMNS):
            batch_op.drop_column(name)
