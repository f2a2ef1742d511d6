"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 01:23:18.350432
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('api_keys',
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('key_sha256', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.String(length=128), nullable=False),
    sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('revoked_at_ms', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_api_keys'))
    )
    op.create_table('consumer_offsets',
    sa.Column('consumer_group', sa.String(length=255), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('kafka_partition', sa.Integer(), nullable=False),
    sa.Column('next_offset', sa.BigInteger(), nullable=False),
    sa.Column('highwater', sa.BigInteger(), nullable=True),
    sa.Column('max_event_ms', sa.BigInteger(), nullable=True),
    sa.Column('watermark_ms', sa.BigInteger(), nullable=True),
    sa.Column('caught_up_since_ms', sa.BigInteger(), nullable=True),
    sa.Column('accepted', sa.BigInteger(), nullable=False),
    sa.Column('duplicates', sa.BigInteger(), nullable=False),
    sa.Column('late', sa.BigInteger(), nullable=False),
    sa.Column('dead_letters', sa.BigInteger(), nullable=False),
    sa.Column('updated_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('consumer_group', 'topic', 'kafka_partition', name=op.f('pk_consumer_offsets'))
    )
    op.create_table('dead_letters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('received_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('stream', sa.String(length=16), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('kafka_partition', sa.Integer(), nullable=False),
    sa.Column('kafka_offset', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.String(length=512), nullable=False),
    sa.Column('payload_sha256', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('model_id', sa.String(length=128), nullable=True),
    sa.Column('window_start', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dead_letters')),
    sa.UniqueConstraint('stream', 'topic', 'kafka_partition', 'kafka_offset', name=op.f('uq_dead_letters_stream_topic_kafka_partition_kafka_offset'))
    )
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dead_letters_model_id_window_start'), ['model_id', 'window_start'], unique=False)
        batch_op.create_index(batch_op.f('ix_dead_letters_reason'), ['reason'], unique=False)

    op.create_table('feedback',
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.String(length=256), nullable=False),
    sa.Column('prediction_id', sa.String(length=256), nullable=False),
    sa.Column('ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('has_label', sa.Boolean(), nullable=False),
    sa.Column('events', sa.Text(), nullable=True),
    sa.Column('joined', sa.Boolean(), nullable=False),
    sa.Column('received_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('model_id', 'event_id', name=op.f('pk_feedback'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_joined'), ['joined'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_model_id_prediction_id'), ['model_id', 'prediction_id'], unique=False)

    op.create_table('late_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('received_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.String(length=256), nullable=False),
    sa.Column('ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('kafka_partition', sa.Integer(), nullable=False),
    sa.Column('kafka_offset', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_late_events'))
    )
    with op.batch_alter_table('late_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_late_events_model_id_window_start'), ['model_id', 'window_start'], unique=False)

    op.create_table('metric_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.Column('window_end', sa.BigInteger(), nullable=False),
    sa.Column('family', sa.String(length=32), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('feature', sa.String(length=256), nullable=True),
    sa.Column('slice', sa.String(length=512), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('p_value', sa.Float(), nullable=True),
    sa.Column('ci_low', sa.Float(), nullable=True),
    sa.Column('ci_high', sa.Float(), nullable=True),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('computed_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_records'))
    )
    with op.batch_alter_table('metric_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_records_model_id_family_window_start'), ['model_id', 'family', 'window_start'], unique=False)
        batch_op.create_index(batch_op.f('ix_metric_records_model_id_window_start'), ['model_id', 'window_start'], unique=False)

    op.create_table('models',
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('config', sa.Text(), nullable=False),
    sa.Column('config_version', sa.Integer(), nullable=False),
    sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('updated_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('model_id', name=op.f('pk_models'))
    )
    op.create_table('predictions',
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('prediction_id', sa.String(length=256), nullable=False),
    sa.Column('event_id', sa.String(length=256), nullable=False),
    sa.Column('ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.Column('model_version', sa.String(length=128), nullable=True),
    sa.Column('prediction', sa.Text(), nullable=False),
    sa.Column('score', sa.Text(), nullable=True),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('label_ts_ms', sa.BigInteger(), nullable=True),
    sa.Column('outcomes', sa.Text(), nullable=True),
    sa.Column('feedback_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('model_id', 'prediction_id', name=op.f('pk_predictions'))
    )
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_predictions_model_id_window_start'), ['model_id', 'window_start'], unique=False)

    op.create_table('processed_events',
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('stream', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=256), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('model_id', 'stream', 'event_id', name=op.f('pk_processed_events'))
    )
    op.create_table('window_partition_state',
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.Column('kafka_partition', sa.Integer(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('updated_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('model_id', 'window_start', 'kafka_partition', name=op.f('pk_window_partition_state'))
    )
    op.create_table('windows',
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.Column('window_end', sa.BigInteger(), nullable=False),
    sa.Column('reference_version', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('needs_revision', sa.Boolean(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('touches', sa.BigInteger(), nullable=False),
    sa.Column('closed_at_ms', sa.BigInteger(), nullable=True),
    sa.Column('finalized_at_ms', sa.BigInteger(), nullable=True),
    sa.Column('merged_state', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('model_id', 'window_start', name=op.f('pk_windows'))
    )
    with op.batch_alter_table('windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_windows_status_window_end'), ['status', 'window_end'], unique=False)

    op.create_table('references',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('n_rows', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=512), nullable=False),
    sa.Column('profile', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.model_id'], name=op.f('fk_references_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_references')),
    sa.UniqueConstraint('model_id', 'version', name=op.f('uq_references_model_id_version'))
    )



def downgrade() -> None:

    op.drop_table('references')
    with op.batch_alter_table('windows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_windows_status_window_end'))

    op.drop_table('windows')
    op.drop_table('window_partition_state')
    op.drop_table('processed_events')
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_predictions_model_id_window_start'))

    op.drop_table('predictions')
    op.drop_table('models')
    with op.batch_alter_table('metric_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_records_model_id_window_start'))
        batch_op.drop_index(batch_op.f('ix_metric_records_model_id_family_window_start'))

    op.drop_table('metric_records')
    with op.batch_alter_table('late_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_late_events_model_id_window_start'))

    op.drop_table('late_events')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_model_id_prediction_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_joined'))

    op.drop_table('feedback')
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dead_letters_reason'))
        batch_op.drop_index(batch_op.f('ix_dead_letters_model_id_window_start'))

    op.drop_table('dead_letters')
    op.drop_table('consumer_offsets')
    op.drop_table('api_keys')

