"""the matcher's index kept in the database: change log, stored vectors, worker cursor

Replaces the consumed `index_queue` with an append-only change log that every
process follows, and stores what each item's index entry holds (texts, meta,
vectors, lexical analysis) so a host builds its index without encoding.

Revision ID: h2_index_in_database
Revises: h3_bulk_import
"""
import sqlalchemy as sa
from alembic import op

revision = "h2_index_in_database"
down_revision = "h5_anonymity"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "match_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_change")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "match_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("text_hash", sa.String(length=40), nullable=False),
        sa.Column("encoder", sa.String(length=120), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vectors", sa.LargeBinary(), nullable=False),
        sa.Column("analyser", sa.String(length=64), nullable=False),
        sa.Column("analysis", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_item")),
        sa.UniqueConstraint("kind", "item_id", name=op.f("uq_match_item_kind")),
    )
    op.create_table(
        "match_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("encoder", sa.String(length=120), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_match_cursor")),
    )
    # The old queue is superseded: the worker's start-up repair compares every
    # item with the database, so nothing it held is lost.
    with op.batch_alter_table("index_queue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_queue_kind"))
        batch_op.drop_index(batch_op.f("ix_index_queue_item_id"))
    op.drop_table("index_queue")


def downgrade():
    op.create_table(
        "index_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_queue")),
    )
    with op.batch_alter_table("index_queue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_index_queue_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_index_queue_kind"), ["kind"], unique=False)
    op.drop_table("match_cursor")
    op.drop_table("match_item")
    op.drop_table("match_change")
