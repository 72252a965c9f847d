"""bulk import jobs, corporate numbers, indexes for the candidate list and screening queue

Revision ID: h3_bulk_import
Revises: 17268a533e11
Create Date: 2026-12-02 05:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = "h3_bulk_import"
down_revision = "h7_row_version"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("bureau", sa.String(length=20), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_format", sa.String(length=5), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("valid_rows", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("last_row", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("unchanged_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_import_job_created_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_job")),
    )
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_job_bureau"), ["bureau"], unique=False)
        batch_op.create_index(batch_op.f("ix_import_job_created_by_id"), ["created_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_import_job_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_import_job_status"), ["status"], unique=False)

    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("corporate_number", sa.String(length=13), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_organisation_corporate_number"), ["corporate_number"])

    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.create_index("ix_proposal_need_submitted", ["need_id", "submitted_at", "id"], unique=False)
        batch_op.create_index("ix_proposal_stage_submitted", ["stage", "submitted_at", "id"], unique=False)
        batch_op.create_index("ix_proposal_stage_need", ["stage", "need_id", "id"], unique=False)
    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.create_index("ix_need_bureau_id", ["bureau", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.drop_index("ix_need_bureau_id")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_index("ix_proposal_stage_need")
        batch_op.drop_index("ix_proposal_stage_submitted")
        batch_op.drop_index("ix_proposal_need_submitted")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_organisation_corporate_number"), type_="unique")
        batch_op.drop_column("corporate_number")
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_job_status"))
        batch_op.drop_index(batch_op.f("ix_import_job_sha256"))
        batch_op.drop_index(batch_op.f("ix_import_job_created_by_id"))
        batch_op.drop_index(batch_op.f("ix_import_job_bureau"))
    op.drop_table("import_job")
