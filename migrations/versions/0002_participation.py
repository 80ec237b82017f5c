"""participation: projects, stages, government work, activities, participations, surveys,
indicator records

Generated with `flask db migrate --rev-id 0002`, then read by hand: enums are VARCHARs (no native
type to alter later), every table is owned by a municipality (municipality_id), and the indexes
are those the lists and the maintained-counter reports need (see backend/participation/models.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 03:12:35.184961

"""
import sqlalchemy as sa
from alembic import op

import backend.dbtypes

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('projects',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('municipality_id', sa.String(length=26), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('field', sa.Enum('safety', 'youth', 'welfare', 'environment', 'local_economy', 'culture', 'health', 'education', 'transport', 'other', name='project_field', native_enum=False, length=20), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'active', 'completed', 'archived', name='project_status', native_enum=False, length=16), nullable=False),
    sa.Column('visibility', sa.Enum('public', 'private', name='project_visibility', native_enum=False, length=16), nullable=False),
    sa.Column('created_by', sa.String(length=26), nullable=True),
    sa.Column('created_at', backend.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_projects_dates_in_order')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_projects_municipality_id_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects'))
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index('ix_projects_municipality', ['municipality_id', 'id'], unique=False)

    op.create_table('indicator_records',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('municipality_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.Enum('ordinance', 'dedicated_department', 'promotion', 'exchange', name='indicator_kind', native_enum=False, length=24), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('channel', sa.Enum('press', 'website', 'sns', 'broadcast', 'print', 'outdoor', 'event', 'newsletter', 'app', 'other', name='promotion_channel', native_enum=False, length=16), nullable=True),
    sa.Column('partner', sa.Enum('residents_association', 'village_community', 'private_partner', name='exchange_partner', native_enum=False, length=24), nullable=True),
    sa.Column('project_id', sa.String(length=26), nullable=True),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('created_by', sa.String(length=26), nullable=True),
    sa.Column('created_at', backend.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_indicator_records_municipality_id_municipalities')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_indicator_records_project_id_projects'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_records'))
    )
    with op.batch_alter_table('indicator_records', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_records_municipality', ['municipality_id', 'kind', 'occurred_on'], unique=False)

    op.create_table('project_stages',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('project_id', sa.String(length=26), nullable=False),
    sa.Column('stage', sa.Enum('plan', 'decide', 'implement', 'evaluate', name='stage', native_enum=False, length=10), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'done', name='stage_status', native_enum=False, length=16), nullable=False),
    sa.Column('derived_mode', sa.Enum('government', 'citizen', 'joint', 'unclear', name='stage_mode', native_enum=False, length=12), nullable=False),
    sa.Column('override_mode', sa.Enum('government', 'citizen', 'joint', 'unclear', name='stage_mode', native_enum=False, length=12), nullable=True),
    sa.Column('override_reason', sa.String(length=500), nullable=True),
    sa.Column('mode', sa.Enum('government', 'citizen', 'joint', 'unclear', name='stage_mode', native_enum=False, length=12), nullable=False),
    sa.Column('government_work_count', sa.Integer(), nullable=False),
    sa.Column('confirmed_count', sa.Integer(), nullable=False),
    sa.Column('confirmed_hours', sa.Float(), nullable=False),
    sa.Column('municipality_id', sa.String(length=26), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('field', sa.Enum('safety', 'youth', 'welfare', 'environment', 'local_economy', 'culture', 'health', 'education', 'transport', 'other', name='project_field', native_enum=False, length=20), nullable=False),
    sa.Column('project_status', sa.Enum('draft', 'active', 'completed', 'archived', name='project_status', native_enum=False, length=16), nullable=False),
    sa.CheckConstraint('ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on', name=op.f('ck_project_stages_dates_in_order')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_project_stages_municipality_id_municipalities')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_stages_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_stages')),
    sa.UniqueConstraint('project_id', 'stage', name=op.f('uq_project_stages_project_id_stage'))
    )
    with op.batch_alter_table('project_stages', schema=None) as batch_op:
        batch_op.create_index('ix_project_stages_municipality', ['municipality_id', 'year', 'stage', 'mode'], unique=False)
        batch_op.create_index('ix_project_stages_project_mode', ['project_id', 'stage', 'mode'], unique=False)
        batch_op.create_index('ix_project_stages_report', ['stage', 'mode', 'project_status', 'year'], unique=False)

    op.create_table('activities',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('municipality_id', sa.String(length=26), nullable=False),
    sa.Column('project_id', sa.String(length=26), nullable=False),
    sa.Column('stage_id', sa.String(length=26), nullable=False),
    sa.Column('stage', sa.Enum('plan', 'decide', 'implement', 'evaluate', name='stage', native_enum=False, length=10), nullable=False),
    sa.Column('kind', sa.Enum('workshop', 'deliberation', 'survey', 'field_work', 'meeting', 'monitoring', 'training', name='activity_kind', native_enum=False, length=16), nullable=False),
    sa.Column('training_level', sa.Enum('basic', 'advanced', name='training_level', native_enum=False, length=10), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('online_url', sa.String(length=500), nullable=True),
    sa.Column('starts_at', backend.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', backend.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('registered_count', sa.Integer(), nullable=False),
    sa.Column('source_key', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=26), nullable=True),
    sa.Column('created_at', backend.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity IS NULL OR capacity > 0', name=op.f('ck_activities_capacity_positive')),
    sa.CheckConstraint('capacity IS NULL OR registered_count <= capacity', name=op.f('ck_activities_within_capacity')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_activities_times_in_order')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_activities_municipality_id_municipalities')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_activities_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stage_id'], ['project_stages.id'], name=op.f('fk_activities_stage_id_project_stages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities')),
    sa.UniqueConstraint('source_key', name=op.f('uq_activities_source_key'))
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index('ix_activities_municipality', ['municipality_id', 'id'], unique=False)
        batch_op.create_index('ix_activities_municipality_kind', ['municipality_id', 'kind', 'starts_at'], unique=False)
        batch_op.create_index('ix_activities_project', ['project_id', 'stage', 'id'], unique=False)

    op.create_table('government_work',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('municipality_id', sa.String(length=26), nullable=False),
    sa.Column('project_id', sa.String(length=26), nullable=False),
    sa.Column('stage_id', sa.String(length=26), nullable=False),
    sa.Column('stage', sa.Enum('plan', 'decide', 'implement', 'evaluate', name='stage', native_enum=False, length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('performed_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=26), nullable=True),
    sa.Column('created_at', backend.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_government_work_municipality_id_municipalities')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_government_work_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stage_id'], ['project_stages.id'], name=op.f('fk_government_work_stage_id_project_stages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_government_work'))
    )
    with op.batch_alter_table('government_work', schema=None) as batch_op:
        batch_op.create_index('ix_government_work_project', ['project_id', 'id'], unique=False)

    op.create_table('participations',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('municipality_id', sa.String(length=26), nullable=False),
    sa.Column('user_id', sa.String(length=26), nullable=False),
    sa.Column('activity_id', sa.String(length=26), nullable=False),
    sa.Column('project_id', sa.String(length=26), nullable=False),
    sa.Column('stage_id', sa.String(length=26), nullable=False),
    sa.Column('stage', sa.Enum('plan', 'decide', 'implement', 'evaluate', name='stage', native_enum=False, length=10), nullable=False),
    sa.Column('activity_starts_at', backend.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('registered', 'attended', 'confirmed', 'cancelled', 'rejected', 'no_show', name='participation_status', native_enum=False, length=16), nullable=False),
    sa.Column('hours', sa.Float(), nullable=True),
    sa.Column('registered_at', backend.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attended_at', backend.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', backend.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=26), nullable=True),
    sa.Column('rejection_reason', sa.String(length=500), nullable=True),
    sa.Column('recorded_by', sa.String(length=26), nullable=True),
    sa.CheckConstraint('hours IS NULL OR hours >= 0', name=op.f('ck_participations_hours_not_negative')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_participations_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_participations_municipality_id_municipalities')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_participations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participations')),
    sa.UniqueConstraint('activity_id', 'user_id', name=op.f('uq_participations_activity_id_user_id'))
    )
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.create_index('ix_participations_activity_status', ['activity_id', 'status'], unique=False)
        batch_op.create_index('ix_participations_project_stage', ['project_id', 'stage', 'status', 'user_id'], unique=False)
        batch_op.create_index('ix_participations_user', ['user_id', 'id'], unique=False)
        batch_op.create_index('ix_participations_user_status_start', ['user_id', 'status', 'activity_starts_at'], unique=False)

    op.create_table('surveys',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('municipality_id', sa.String(length=26), nullable=False),
    sa.Column('project_id', sa.String(length=26), nullable=False),
    sa.Column('activity_id', sa.String(length=26), nullable=True),
    sa.Column('target_key', sa.String(length=26), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('closes_at', backend.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=26), nullable=True),
    sa.Column('created_at', backend.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('response_count', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('rating_1', sa.Integer(), nullable=False),
    sa.Column('rating_2', sa.Integer(), nullable=False),
    sa.Column('rating_3', sa.Integer(), nullable=False),
    sa.Column('rating_4', sa.Integer(), nullable=False),
    sa.Column('rating_5', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_surveys_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_surveys_municipality_id_municipalities')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_surveys_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
    sa.UniqueConstraint('target_key', name=op.f('uq_surveys_target_key'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index('ix_surveys_municipality', ['municipality_id', 'id'], unique=False)
        batch_op.create_index('ix_surveys_project', ['project_id', 'id'], unique=False)

    op.create_table('survey_responses',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('survey_id', sa.String(length=26), nullable=False),
    sa.Column('user_id', sa.String(length=26), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.String(length=1000), nullable=False),
    sa.Column('created_at', backend.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_survey_responses_rating_range')),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_responses_survey_id_surveys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_survey_responses_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sa.UniqueConstraint('survey_id', 'user_id', name=op.f('uq_survey_responses_survey_id_user_id'))
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index('ix_survey_responses_survey', ['survey_id', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_survey')

    op.drop_table('survey_responses')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_surveys_project')
        batch_op.drop_index('ix_surveys_municipality')

    op.drop_table('surveys')
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_index('ix_participations_user_status_start')
        batch_op.drop_index('ix_participations_user')
        batch_op.drop_index('ix_participations_project_stage')
        batch_op.drop_index('ix_participations_activity_status')

    op.drop_table('participations')
    with op.batch_alter_table('government_work', schema=None) as batch_op:
        batch_op.drop_index('ix_government_work_project')

    op.drop_table('government_work')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_project')
        batch_op.drop_index('ix_activities_municipality_kind')
        batch_op.drop_index('ix_activities_municipality')

    op.drop_table('activities')
    with op.batch_alter_table('project_stages', schema=None) as batch_op:
        batch_op.drop_index('ix_project_stages_report')
        batch_op.drop_index('ix_project_stages_project_mode')
        batch_op.drop_index('ix_project_stages_municipality')

    op.drop_table('project_stages')
    with op.batch_alter_table('indicator_records', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_records_municipality')

    op.drop_table('indicator_records')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_municipality')

    op.drop_table('projects')
