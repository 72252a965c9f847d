"""off-boarding: organisation status, why a user is disabled, pseudonymised users

Revision ID: h6_offboarding
Revises: 17268a533e11
Create Date: 2026-12-02 05:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = "h6_offboarding"
down_revision = "17268a533e11"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=10), server_default="active", nullable=False))
        batch_op.add_column(sa.Column("disabled_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disabled_reason", sa.String(length=20), server_default="", nullable=False))
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("disabled_reason")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("disabled_at")
        batch_op.drop_column("status")
