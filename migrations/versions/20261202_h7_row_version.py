"""row_version for optimistic concurrency on needs, proposals and organisations

Revision ID: h7_row_version
Revises: 17268a533e11
"""
import sqlalchemy as sa
from alembic import op

revision = "h7_row_version"
down_revision = "h8_casework"
branch_labels = None
depends_on = None

TABLES = ("need", "proposal", "organisation")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("row_version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("row_version")
