"""customs identities and vendor shipping profiles

Shoppers' customs identities (sealed name and identity number, its keyed digest and masked form) and
vendors' shipping profiles (zones of countries with their services' rates, as JSON).

Revision ID: 5e2a1c0d9b09
Revises: 5e2a1c0d9b08
Create Date: 2026-12-01 00:30:00

"""
from alembic import op
import sqlalchemy as sa

from marketplace.kernel.db_types import UtcDateTime


# revision identifiers, used by Alembic.
revision = '5e2a1c0d9b09'
down_revision = '5e2a1c0d9b08'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'customs_identities',
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('name_sealed', sa.Text(), nullable=False),
        sa.Column('id_number_sealed', sa.Text(), nullable=False),
        sa.Column('id_number_digest', sa.String(length=64), nullable=False),
        sa.Column('id_number_masked', sa.String(length=32), nullable=False),
        sa.Column('updated_at', UtcDateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_customs_identities_id_number_digest', 'customs_identities', ['id_number_digest'])
    op.create_table(
        'vendor_shipping_profiles',
        sa.Column('vendor_id', sa.Integer(), sa.ForeignKey('vendors.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('zones', sa.JSON(), nullable=False),
        sa.Column('updated_at', UtcDateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table('vendor_shipping_profiles')
    op.drop_index('ix_customs_identities_id_number_digest', table_name='customs_identities')
    op.drop_table('customs_identities')
