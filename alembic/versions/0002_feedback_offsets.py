"""feedback remembers its Kafka position (orphan feedback is dead-lettered at that offset);
concept-drift detector state per model; each prediction's slice values

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('concept_states',
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('last_window_start', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('model_id', name=op.f('pk_concept_states'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('topic', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('kafka_partition', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('kafka_offset', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slices', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.drop_column('slices')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_column('kafka_offset')
        batch_op.drop_column('kafka_partition')
        batch_op.drop_column('topic')
    op.drop_table('concept_states')
