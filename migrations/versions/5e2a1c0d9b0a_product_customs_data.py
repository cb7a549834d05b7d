"""product customs data

Products carry what shipping and customs need: weight in grams, packed dimensions in millimetres and a
plain customs description. All nullable (existing products have none until their vendor adds them);
adding nullable columns does not rebuild the table on SQLite, so the partner feed triggers on `products`
(5e2a1c0d9b02) stay as they are.

Revision ID: 5e2a1c0d9b0a
Revises: 5e2a1c0d9b09
Create Date: 2026-12-01 00:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e2a1c0d9b0a'
down_revision = '5e2a1c0d9b09'
branch_labels = None
depends_on = None

COLUMNS = (('weight_g', sa.Integer()), ('length_mm', sa.Integer()), ('width_mm', sa.Integer()),
           ('height_mm', sa.Integer()), ('customs_description', sa.String(length=200)))


def upgrade():
    for name, type_ in COLUMNS:
        op.add_column('products', sa.Column(name, type_, nullable=True))


def downgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        for name, _type in reversed(COLUMNS):
            batch_op.drop_column(name)
