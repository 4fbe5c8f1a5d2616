"""Intake: endpoints and the inbox of deliveries, events, mappings, company settings, agreements and
versioned rules.

Revision ID: 0002_intake
Revises: 0001_connection
Create Date: 2026-01-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from addon.models.base import UTCDateTime

revision = "0002_intake"
down_revision = "0001_connection"
branch_labels = None
depends_on = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('agreements',
        sa.Column('company_id', sa.String(32), nullable=False),
        sa.Column('id', sa.String(255), nullable=False),
        sa.Column('customer_id', sa.String(64), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('document', sa.Text(), nullable=False),
        sa.Column('revision', sa.Integer(), server_default='1', nullable=False),
        sa.Column('origin', sa.String(20), nullable=False),
        sa.Column('started_by_rule', sa.String(255), nullable=True),
        sa.Column('source', sa.String(50), nullable=True),
        sa.Column('source_object_id', sa.Text(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('created_by', sa.String(255), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.Column('updated_by', sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_agreements_company_id_companies'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('company_id', 'id', name=op.f('pk_agreements'))
    )
    op.create_index('ix_agreements_company_customer', 'agreements', ['company_id', 'customer_id'], unique=False)
    op.create_table('company_settings',
        sa.Column('company_id', sa.String(32), nullable=False),
        sa.Column('name', sa.String(64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.Column('updated_by', sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_company_settings_company_id_companies'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('company_id', 'name', name=op.f('pk_company_settings'))
    )
    op.create_table('customer_claims',
        sa.Column('company_id', sa.String(32), nullable=False),
        sa.Column('source', sa.String(50), nullable=False),
        sa.Column('source_customer_id', sa.String(255), nullable=False),
        sa.Column('claim', sa.String(32), nullable=False),
        sa.Column('claimed_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_customer_claims_company_id_companies'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('company_id', 'source', 'source_customer_id', name=op.f('pk_customer_claims'))
    )
    op.create_table('endpoints',
        sa.Column('id', sa.String(32), nullable=False),
        sa.Column('company_id', sa.String(32), nullable=False),
        sa.Column('source', sa.String(50), nullable=False),
        sa.Column('token_digest', sa.String(64), nullable=False),
        sa.Column('token', sa.Text(), nullable=False),
        sa.Column('secret', sa.Text(), nullable=True),
        sa.Column('api_credentials', sa.Text(), nullable=True),
        sa.Column('settings', sa.Text(), server_default='{}', nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('created_by', sa.String(255), nullable=False),
        sa.Column('handshake_at', UTCDateTime(), nullable=True),
        sa.Column('rejected_count', sa.Integer(), server_default='0', nullable=False),
        sa.Column('last_rejected_at', UTCDateTime(), nullable=True),
        sa.Column('last_rejected_reason', sa.String(255), nullable=True),
        sa.CheckConstraint("status in ('active', 'awaiting_handshake', 'disabled')", name=op.f('ck_endpoints_status')),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_endpoints_company_id_companies'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_endpoints')),
        sa.UniqueConstraint('token_digest', name=op.f('uq_endpoints_token_digest'))
    )
    op.create_index(op.f('ix_endpoints_company_id'), 'endpoints', ['company_id'], unique=False)
    op.create_table('mappings',
        sa.Column('id', _BIGINT, autoincrement=True, nullable=False),
        sa.Column('company_id', sa.String(32), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('source', sa.String(50), nullable=False),
        sa.Column('key', sa.String(255), nullable=False),
        sa.Column('target', sa.String(255), nullable=False),
        sa.Column('detail', sa.String(255), nullable=True),
        sa.Column('how', sa.String(20), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.Column('updated_by', sa.String(255), nullable=False),
        sa.CheckConstraint("kind in ('customer', 'item', 'project', 'milestone')", name=op.f('ck_mappings_kind')),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_mappings_company_id_companies'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mappings')),
        sa.UniqueConstraint('company_id', 'kind', 'source', 'key', name=op.f('uq_mappings_company_id_kind_source_key'))
    )
    op.create_table('rule_versions',
        sa.Column('id', _BIGINT, autoincrement=True, nullable=False),
        sa.Column('company_id', sa.String(32), nullable=False),
        sa.Column('scope', sa.String(255), nullable=False),
        sa.Column('rule_id', sa.String(255), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('document', sa.Text(), nullable=False),
        sa.Column('effective_from', sa.Date(), nullable=True),
        sa.Column('effective_to', sa.Date(), nullable=True),
        sa.Column('current', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('created_by', sa.String(255), nullable=False),
        sa.Column('superseded_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_rule_versions_company_id_companies'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_versions')),
        sa.UniqueConstraint('company_id', 'scope', 'rule_id', 'version', name=op.f('uq_rule_versions_company_id_scope_rule_id_version'))
    )
    op.create_index(op.f('ix_rule_versions_company_id'), 'rule_versions', ['company_id'], unique=False)
    op.create_table('deliveries',
        sa.Column('id', sa.String(32), nullable=False),
        sa.Column('company_id', sa.String(32), nullable=False),
        sa.Column('endpoint_id', sa.String(32), nullable=False),
        sa.Column('source', sa.String(50), nullable=False),
        sa.Column('dedupe_key', sa.String(255), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.Column('content_type', sa.String(255), nullable=True),
        sa.Column('headers', sa.Text(), nullable=False),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('events_count', sa.Integer(), server_default='0', nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', UTCDateTime(), nullable=True),
        sa.Column('processed_at', UTCDateTime(), nullable=True),
        sa.CheckConstraint("status in ('received', 'processed', 'ignored', 'unparseable', 'failed')", name=op.f('ck_deliveries_status')),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_deliveries_company_id_companies'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['endpoint_id'], ['endpoints.id'], name=op.f('fk_deliveries_endpoint_id_endpoints'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
        sa.UniqueConstraint('endpoint_id', 'dedupe_key', name=op.f('uq_deliveries_endpoint_id_dedupe_key'))
    )
    op.create_index('ix_deliveries_company_received', 'deliveries', ['company_id', 'received_at'], unique=False)
    op.create_index(op.f('ix_deliveries_next_attempt_at'), 'deliveries', ['next_attempt_at'], unique=False)
    op.create_table('events',
        sa.Column('id', sa.String(32), nullable=False),
        sa.Column('company_id', sa.String(32), nullable=False),
        sa.Column('dedupe_key', sa.String(255), nullable=False),
        sa.Column('origin', sa.String(20), nullable=False),
        sa.Column('delivery_id', sa.String(32), nullable=True),
        sa.Column('endpoint_id', sa.String(32), nullable=True),
        sa.Column('source', sa.String(50), nullable=False),
        sa.Column('kind', sa.String(40), nullable=False),
        sa.Column('source_object_id', sa.Text(), nullable=False),
        sa.Column('source_customer_id', sa.String(255), nullable=True),
        sa.Column('occurred_at', UTCDateTime(), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', UTCDateTime(), nullable=True),
        sa.Column('qbo_customer_id', sa.String(64), nullable=True),
        sa.Column('agreement_id', sa.String(255), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.Column('closed_at', UTCDateTime(), nullable=True),
        sa.CheckConstraint("origin in ('delivery', 'raised')", name=op.f('ck_events_origin')),
        sa.CheckConstraint("status in ('waiting_enrichment', 'waiting_mapping', 'ready', 'done', 'ignored', 'failed')", name=op.f('ck_events_status')),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_events_company_id_companies'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_events_delivery_id_deliveries'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['endpoint_id'], ['endpoints.id'], name=op.f('fk_events_endpoint_id_endpoints'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
        sa.UniqueConstraint('company_id', 'dedupe_key', name=op.f('uq_events_company_id_dedupe_key'))
    )
    op.create_index('ix_events_company_created', 'events', ['company_id', 'created_at'], unique=False)
    op.create_index('ix_events_company_customer', 'events', ['company_id', 'source', 'source_customer_id'], unique=False)
    op.create_index(op.f('ix_events_delivery_id'), 'events', ['delivery_id'], unique=False)
    op.create_index(op.f('ix_events_next_attempt_at'), 'events', ['next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_events_next_attempt_at'), table_name='events')
    op.drop_index(op.f('ix_events_delivery_id'), table_name='events')
    op.drop_index('ix_events_company_customer', table_name='events')
    op.drop_index('ix_events_company_created', table_name='events')
    op.drop_table('events')
    op.drop_index(op.f('ix_deliveries_next_attempt_at'), table_name='deliveries')
    op.drop_index('ix_deliveries_company_received', table_name='deliveries')
    op.drop_table('deliveries')
    op.drop_index(op.f('ix_rule_versions_company_id'), table_name='rule_versions')
    op.drop_table('rule_versions')
    op.drop_table('mappings')
    op.drop_index(op.f('ix_endpoints_company_id'), table_name='endpoints')
    op.drop_table('endpoints')
    op.drop_table('customer_claims')
    op.drop_table('company_settings')
    op.drop_index('ix_agreements_company_customer', table_name='agreements')
    op.drop_table('agreements')
