"""indexes for finding needs at national scale: the listing order, and trigrams for substring search

The listing index (coalesce(published_at, created_at), id) lets the needs list
and a search for a common term stop after one page instead of sorting every
match. The trigram index (pg_trgm, GIN) serves `search_text LIKE '%term%'`
for terms of three or more characters, Japanese included; it exists on
PostgreSQL only (SQLite has no trigram index and keeps scanning).

Revision ID: ps_search_indexes
Revises: hu_stored_files
"""
import sqlalchemy as sa
from alembic import op

revision = "ps_search_indexes"
down_revision = "hu_stored_files"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_need_listing", "need", [sa.text("coalesce(published_at, created_at)"), "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index("ix_need_search_text_trgm", "need", ["search_text"], unique=False,
                        postgresql_using="gin", postgresql_ops={"search_text": "gin_trgm_ops"})


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_need_search_text_trgm", table_name="need")
        # the extension stays: other databases objects may use it, and dropping it needs ownership
    op.drop_index("ix_need_listing", table_name="need")
