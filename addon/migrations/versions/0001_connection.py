"""Connection: companies, their QuickBooks tokens, users and roles, the audit chain, parked work.

Revision ID: 0001_connection
Revises:
Create Date: 2026-01-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from addon.models.base import UTCDateTime

revision = "0001_connection"
down_revision = None
branch_labels = None
depends_on = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("environment", sa.String(255), nullable=False),
        sa.Column("realm_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("timezone", sa.String(64), server_default="UTC", nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("connected_at", UTCDateTime(), nullable=True),
        sa.Column("disconnected_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("status in ('connected', 'needs_reconnect', 'disconnected')",
                           name=op.f("ck_companies_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
        sa.UniqueConstraint("environment", "realm_id", name=op.f("uq_companies_environment_realm_id")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("intuit_sub", sa.String(255), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_sign_in_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("intuit_sub", name=op.f("uq_users_intuit_sub")),
    )
    op.create_table(
        "qbo_connections",
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("access_expires_at", UTCDateTime(), nullable=True),
        sa.Column("refresh_expires_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("refreshed_at", UTCDateTime(), nullable=True),
        sa.Column("scopes", sa.String(255), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                name=op.f("fk_qbo_connections_company_id_companies")),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_qbo_connections")),
    )
    op.create_table(
        "memberships",
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("role in ('admin', 'bookkeeper', 'viewer')", name=op.f("ck_memberships_role")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                name=op.f("fk_memberships_company_id_companies")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_memberships_user_id_users")),
        sa.PrimaryKeyConstraint("company_id", "user_id", name=op.f("pk_memberships")),
    )
    op.create_index(op.f("ix_memberships_user_id"), "memberships", ["user_id"])
    op.create_table(
        "audit_records",
        sa.Column("id", _BIGINT, autoincrement=True, nullable=False),
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"],
                                name=op.f("fk_audit_records_company_id_companies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_records")),
        sa.UniqueConstraint("company_id", "seq", name=op.f("uq_audit_records_company_id_seq")),
    )
    op.create_table(
        "audit_heads",
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"],
                                name=op.f("fk_audit_heads_company_id_companies")),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_audit_heads")),
    )
    op.create_table(
        "parked_jobs",
        sa.Column("id", _BIGINT, autoincrement=True, nullable=False),
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("job_key", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(50), nullable=False),
        sa.Column("func", sa.String(255), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("parked_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                name=op.f("fk_parked_jobs_company_id_companies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parked_jobs")),
        sa.UniqueConstraint("company_id", "job_key", name=op.f("uq_parked_jobs_company_id_job_key")),
    )
    op.create_index(op.f("ix_parked_jobs_company_id"), "parked_jobs", ["company_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_parked_jobs_company_id"), table_name="parked_jobs")
    op.drop_table("parked_jobs")
    op.drop_table("audit_heads")
    op.drop_table("audit_records")
    op.drop_index(op.f("ix_memberships_user_id"), table_name="memberships")
    op.drop_table("memberships")
    op.drop_table("qbo_connections")
    op.drop_table("users")
    op.drop_table("companies")
