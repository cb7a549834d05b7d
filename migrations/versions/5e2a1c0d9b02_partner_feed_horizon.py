"""partner feed horizon

The delta feed orders partner listings by `feed_seq`, a change number set by triggers in the transaction
that writes the link or its product (whichever code path does it):

- PostgreSQL: the writing transaction's id (`pg_current_xact_id()`); the feed serves only rows whose id is
  below the lowest id still in progress in this database, so a transaction still running can never commit
  a row behind a cursor.
- SQLite: one more than the highest so far, computed while the writer holds SQLite's single write lock.

Existing links start at 0 (before every later change). Also: the vendors a webhook delivery carries data of
(checked again before each attempt), and the reason a sync job failed.

Revision ID: 5e2a1c0d9b02
Revises: db4795cba2e5
Create Date: 2026-11-30 18:45:00

"""
from alembic import op
import sqlalchemy as sa

import marketplace.kernel.db_types


# revision identifiers, used by Alembic.
revision = '5e2a1c0d9b02'
down_revision = 'db4795cba2e5'
branch_labels = None
depends_on = None


POSTGRES_TRIGGERS = [
    """
    CREATE FUNCTION partner_listing_feed_seq() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.feed_seq := pg_current_xact_id()::text::bigint;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER partner_listings_feed_seq BEFORE INSERT ON partner_listings
    FOR EACH ROW EXECUTE FUNCTION partner_listing_feed_seq()
    """,
    """
    CREATE FUNCTION product_partner_feed_seq() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        seq bigint := pg_current_xact_id()::text::bigint;
    BEGIN
        UPDATE partner_listings SET feed_seq = seq WHERE product_id = NEW.id AND feed_seq <> seq;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER products_partner_feed_seq AFTER UPDATE ON products
    FOR EACH ROW EXECUTE FUNCTION product_partner_feed_seq()
    """,
]

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER partner_listings_feed_seq AFTER INSERT ON partner_listings
    BEGIN
        UPDATE partner_listings SET feed_seq = (SELECT COALESCE(MAX(feed_seq), 0) + 1 FROM partner_listings)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER products_partner_feed_seq AFTER UPDATE ON products
    BEGIN
        UPDATE partner_listings SET feed_seq = (SELECT COALESCE(MAX(feed_seq), 0) + 1 FROM partner_listings)
        WHERE product_id = NEW.id;
    END
    """,
]


def upgrade():
    with op.batch_alter_table('partner_listings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_seq', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.create_index('ix_partner_listings_feed', ['partner_id', 'feed_seq', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_listings_feed_seq'), ['feed_seq'], unique=False)
    with op.batch_alter_table('partner_webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vendor_ids', sa.JSON(), nullable=True))
    with op.batch_alter_table('partner_sync_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_TRIGGERS if dialect == 'postgresql' else SQLITE_TRIGGERS if dialect == 'sqlite' else []:
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS products_partner_feed_seq ON products')
        op.execute('DROP TRIGGER IF EXISTS partner_listings_feed_seq ON partner_listings')
        op.execute('DROP FUNCTION IF EXISTS product_partner_feed_seq()')
        op.execute('DROP FUNCTION IF EXISTS partner_listing_feed_seq()')
    elif dialect == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS products_partner_feed_seq')
        op.execute('DROP TRIGGER IF EXISTS partner_listings_feed_seq')
    with op.batch_alter_table('partner_sync_jobs', schema=None) as batch_op:
        batch_op.drop_column('error')
    with op.batch_alter_table('partner_webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_column('vendor_ids')
    with op.batch_alter_table('partner_listings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_listings_feed_seq'))
        batch_op.drop_index('ix_partner_listings_feed')
        batch_op.drop_column('feed_seq')
