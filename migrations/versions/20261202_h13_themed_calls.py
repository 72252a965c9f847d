"""h13: themed calls grouping published needs; proposers' ratings of need owners

Revision ID: h13_themed_calls
Revises: h3_bulk_import
Create Date: 2026-12-02 06:35:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h13_themed_calls'
down_revision = "h9_receipt_history"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('themed_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('bureau', sa.String(length=20), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_themed_call_created_by_id_user')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_themed_call_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_themed_call'))
    )
    with op.batch_alter_table('themed_call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_themed_call_bureau'), ['bureau'], unique=False)
        batch_op.create_index(batch_op.f('ix_themed_call_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_themed_call_org_id'), ['org_id'], unique=False)

    op.create_table('themed_call_need',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['user.id'], name=op.f('fk_themed_call_need_added_by_id_user')),
    sa.ForeignKeyConstraint(['call_id'], ['themed_call.id'], name=op.f('fk_themed_call_need_call_id_themed_call')),
    sa.ForeignKeyConstraint(['need_id'], ['need.id'], name=op.f('fk_themed_call_need_need_id_need')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_themed_call_need')),
    sa.UniqueConstraint('call_id', 'need_id', name=op.f('uq_themed_call_need_call_id'))
    )
    with op.batch_alter_table('themed_call_need', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_themed_call_need_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_themed_call_need_need_id'), ['need_id'], unique=False)

    op.create_table('owner_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('owner_org_id', sa.Integer(), nullable=False),
    sa.Column('rater_user_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('clear_reason', sa.SmallInteger(), nullable=False),
    sa.Column('on_time', sa.SmallInteger(), nullable=False),
    sa.Column('respectful', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['need_id'], ['need.id'], name=op.f('fk_owner_rating_need_id_need')),
    sa.ForeignKeyConstraint(['owner_org_id'], ['organisation.id'], name=op.f('fk_owner_rating_owner_org_id_organisation')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_owner_rating_proposal_id_proposal')),
    sa.ForeignKeyConstraint(['rater_user_id'], ['user.id'], name=op.f('fk_owner_rating_rater_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_rating')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_owner_rating_proposal_id'))
    )
    with op.batch_alter_table('owner_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owner_rating_need_id'), ['need_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_owner_rating_owner_org_id'), ['owner_org_id'], unique=False)


def downgrade():
    with op.batch_alter_table('owner_rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owner_rating_owner_org_id'))
        batch_op.drop_index(batch_op.f('ix_owner_rating_need_id'))
    op.drop_table('owner_rating')
    with op.batch_alter_table('themed_call_need', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_themed_call_need_need_id'))
        batch_op.drop_index(batch_op.f('ix_themed_call_need_call_id'))
    op.drop_table('themed_call_need')
    with op.batch_alter_table('themed_call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_themed_call_org_id'))
        batch_op.drop_index(batch_op.f('ix_themed_call_deadline'))
        batch_op.drop_index(batch_op.f('ix_themed_call_bureau'))
    op.drop_table('themed_call')
