"""indexes for the owner/proposer filters: organisation industry and employee band

Revision ID: h10_filter_indexes
Revises: h3_bulk_import
"""
from alembic import op

revision = "h10_filter_indexes"
down_revision = "h2_index_in_database"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisation_industry"), ["industry"], unique=False)
        batch_op.create_index(batch_op.f("ix_organisation_employee_band"), ["employee_band"], unique=False)


def downgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_employee_band"))
        batch_op.drop_index(batch_op.f("ix_organisation_industry"))
