"""keep every proposal receipt (one per edit), earlier ones downloadable

Revision ID: h9_receipt_history
Revises: h3_bulk_import
Create Date: 2026-12-02 06:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = "h9_receipt_history"
down_revision = "h10_filter_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "proposal_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], name=op.f("fk_proposal_receipt_proposal_id_proposal")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_receipt")),
    )
    with op.batch_alter_table("proposal_receipt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_receipt_proposal_id"), ["proposal_id"], unique=False)
    # The current receipt of every proposal becomes its first kept receipt
    # (earlier hashes of edited proposals survive only in the audit log).
    op.execute(
        "INSERT INTO proposal_receipt (proposal_id, receipt_hash, content, issued_at) "
        "SELECT id, receipt_hash, receipt_content, COALESCE(updated_at, submitted_at, created_at) FROM proposal "
        "WHERE receipt_hash <> ''"
    )


def downgrade():
    with op.batch_alter_table("proposal_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_receipt_proposal_id"))
    op.drop_table("proposal_receipt")
