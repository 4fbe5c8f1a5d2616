"""Usage ledger: usage record versions and heads, credits owed, consumption, agreement locks, threshold
crossings, poll cursors.

Revision ID: 0003_usage
Revises: 0002_intake
Create Date: 2026-01-19
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from addon.models.base import UTCDateTime
from addon.models.types import DecimalText

revision = "0003_usage"
down_revision = "0002_intake"
branch_labels = None
depends_on = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _company_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                   name=op.f(f"fk_{table}_company_id_companies"))


def upgrade() -> None:
    op.create_table(
        "usage_versions",
        sa.Column("id", _BIGINT, autoincrement=True, nullable=False),
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("source_id", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("agreement_id", sa.String(255), nullable=True),
        sa.Column("person", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("task", sa.Text(), nullable=True),
        sa.Column("project", sa.Text(), nullable=True),
        sa.Column("hours", DecimalText(), nullable=True),
        sa.Column("quantity", DecimalText(), nullable=True),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("amount", DecimalText(), nullable=True),
        sa.Column("rate", DecimalText(), nullable=True),
        sa.Column("currency", sa.String(10), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("taxable", sa.Boolean(), nullable=True),
        sa.Column("mapping_keys", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("source_event_id", sa.Text(), nullable=True),
        sa.CheckConstraint("kind in ('time', 'expense', 'sla_breach')", name=op.f("ck_usage_versions_kind")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_usage_versions_version")),
        _company_fk("usage_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_versions")),
        sa.UniqueConstraint("company_id", "source", "source_id", "version",
                            name="uq_usage_versions_record_version"),
    )
    op.create_table(
        "usage_heads",
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("source_id", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("agreement_id", sa.String(255), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("mapping_keys", sa.Text(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("billed_version", sa.Integer(), nullable=True),
        sa.Column("pending", sa.Boolean(), nullable=False),
        _company_fk("usage_heads"),
        sa.PrimaryKeyConstraint("company_id", "source", "source_id", name=op.f("pk_usage_heads")),
    )
    op.create_index("ix_usage_heads_company_agreement_pending", "usage_heads",
                    ["company_id", "agreement_id", "pending"])
    op.create_table(
        "usage_credits",
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("agreement_id", sa.String(255), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("source_id", sa.String(255), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        _company_fk("usage_credits"),
        sa.PrimaryKeyConstraint("company_id", "agreement_id", "source", "source_id", name=op.f("pk_usage_credits")),
    )
    op.create_table(
        "usage_consumption",
        sa.Column("id", _BIGINT, autoincrement=True, nullable=False),
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("agreement_id", sa.String(255), nullable=False),
        sa.Column("posting_key", sa.String(64), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("source_id", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.String(255), nullable=False),
        sa.Column("hours", DecimalText(), nullable=True),
        sa.Column("quantity", DecimalText(), nullable=True),
        sa.Column("amount", DecimalText(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("consumed_at", UTCDateTime(), nullable=False),
        _company_fk("usage_consumption"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_consumption")),
        sa.UniqueConstraint("company_id", "agreement_id", "source", "source_id", "version",
                            name="uq_usage_consumption_agreement_version"),
    )
    op.create_index("ix_usage_consumption_company_posting", "usage_consumption", ["company_id", "posting_key"])
    op.create_index("ix_usage_consumption_record", "usage_consumption", ["company_id", "source", "source_id"])
    op.create_table(
        "usage_agreement_locks",
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("agreement_id", sa.String(255), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=True),
        _company_fk("usage_agreement_locks"),
        sa.PrimaryKeyConstraint("company_id", "agreement_id", name=op.f("pk_usage_agreement_locks")),
    )
    op.create_table(
        "threshold_crossings",
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("agreement_id", sa.String(255), nullable=False),
        sa.Column("rule_id", sa.String(255), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("crossing", sa.Integer(), nullable=False),
        sa.Column("source_object_id", sa.Text(), nullable=False),
        sa.Column("hours", DecimalText(), nullable=True),
        sa.Column("amount", DecimalText(), nullable=True),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        _company_fk("threshold_crossings"),
        sa.PrimaryKeyConstraint("company_id", "agreement_id", "rule_id", "period_start", "crossing",
                                name=op.f("pk_threshold_crossings")),
    )
    op.create_table(
        "poll_cursors",
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("account", sa.String(255), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("polled_at", UTCDateTime(), nullable=True),
        sa.Column("not_before", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _company_fk("poll_cursors"),
        sa.PrimaryKeyConstraint("company_id", "source", "account", name=op.f("pk_poll_cursors")),
    )


def downgrade() -> None:
    op.drop_table("poll_cursors")
    op.drop_table("threshold_crossings")
    op.drop_table("usage_agreement_locks")
    op.drop_index("ix_usage_consumption_record", table_name="usage_consumption")
    op.drop_index("ix_usage_consumption_company_posting", table_name="usage_consumption")
    op.drop_table("usage_consumption")
    op.drop_table("usage_credits")
    op.drop_index("ix_usage_heads_company_agreement_pending", table_name="usage_heads")
    op.drop_table("usage_heads")
    op.drop_table("usage_versions")
