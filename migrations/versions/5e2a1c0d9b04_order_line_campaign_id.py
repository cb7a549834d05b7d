"""order line campaign id

Campaign results select a campaign's order lines by an indexed `order_lines.campaign_id` instead of reading
the `campaign_id` key of every line's JSON `campaign`; existing lines are backfilled from that key.

No trigger is defined on `order_lines` (the partner feed triggers of 5e2a1c0d9b02 are on `partner_listings`
and `products`), so nothing needs recreating; adding a nullable column and an index does not rebuild the
table on SQLite either.

Revision ID: 5e2a1c0d9b04
Revises: 5e2a1c0d9b03
Create Date: 2026-11-30 21:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e2a1c0d9b04'
down_revision = '5e2a1c0d9b03'
branch_labels = None
depends_on = None

order_lines = sa.table('order_lines', sa.column('campaign', sa.JSON()), sa.column('campaign_id', sa.Integer()))


def upgrade():
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_order_lines_campaign_id'), ['campaign_id'], unique=False)
    # json_extract on SQLite, ->> on PostgreSQL; a line without a campaign (SQL or JSON null) stays NULL
    op.execute(order_lines.update()
               .where(order_lines.c.campaign.isnot(None))
               .values(campaign_id=order_lines.c.campaign['campaign_id'].as_integer()))


def downgrade():
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_lines_campaign_id'))
        batch_op.drop_column('campaign_id')
