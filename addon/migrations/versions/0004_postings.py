"""Postings: drafts on their way into QuickBooks (unique business key), the item cache, billing cursors.

Revision ID: 0004_postings
Revises: 0003_usage
Create Date: 2026-01-19
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from addon.models.base import UTCDateTime

revision = "0004_postings"
down_revision = "0003_usage"
branch_labels = None
depends_on = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_MONEY = sa.Numeric(20, 6)
_STATES = ("planned", "creating", "created", "sending", "sent", "held", "rejected", "needs_attention",
           "delivery_failed", "paused", "failed", "declined")


def upgrade() -> None:
    op.create_table(
        "postings",
        sa.Column("id", _BIGINT, autoincrement=True, nullable=False),
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(36), nullable=False),
        sa.Column("key_text", sa.Text(), nullable=False),
        sa.Column("agreement_id", sa.String(255), nullable=False),
        sa.Column("rule_id", sa.String(255), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("customer_name", sa.String(255), server_default="", nullable=False),
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("trigger", sa.Text(), server_default="", nullable=False),
        sa.Column("draft", sa.Text(), nullable=False),
        sa.Column("original_draft", sa.Text(), nullable=True),
        sa.Column("total", _MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("send_mode", sa.String(30), nullable=False),
        sa.Column("hold_before_create", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("hold_reasons", sa.Text(), server_default="[]", nullable=False),
        sa.Column("has_credit", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("backlog", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("resume_state", sa.String(20), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("create_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("send_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("job_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("qbo_invoice_id", sa.String(64), nullable=True),
        sa.Column("qbo_doc_number", sa.String(64), nullable=True),
        sa.Column("qbo_total", _MONEY, nullable=True),
        sa.Column("qbo_tax", _MONEY, nullable=True),
        sa.Column("email_status", sa.String(30), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("delivery_error", sa.Text(), nullable=True),
        sa.Column("intuit_tid", sa.String(64), nullable=True),
        sa.Column("approved_by", sa.String(255), nullable=True),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("edited_by", sa.String(255), nullable=True),
        sa.Column("edited_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("state in (" + ", ".join(f"'{s}'" for s in _STATES) + ")", name=op.f("ck_postings_state")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                name=op.f("fk_postings_company_id_companies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
        sa.UniqueConstraint("key", name=op.f("uq_postings_key")),
    )
    op.create_index("ix_postings_state_next_attempt_at", "postings", ["state", "next_attempt_at"])
    op.create_index("ix_postings_company_id_state", "postings", ["company_id", "state"])
    op.create_index("ix_postings_company_id_agreement_id", "postings", ["company_id", "agreement_id"])
    op.create_table(
        "qbo_item_refs",
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                name=op.f("fk_qbo_item_refs_company_id_companies")),
        sa.PrimaryKeyConstraint("company_id", "name", name=op.f("pk_qbo_item_refs")),
    )
    op.create_table(
        "billing_cursors",
        sa.Column("company_id", sa.String(32), nullable=False),
        sa.Column("agreement_id", sa.String(255), nullable=False),
        sa.Column("through", UTCDateTime(), nullable=False),
        sa.Column("next_due_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                name=op.f("fk_billing_cursors_company_id_companies")),
        sa.PrimaryKeyConstraint("company_id", "agreement_id", name=op.f("pk_billing_cursors")),
    )
    op.create_index("ix_billing_cursors_next_due_at", "billing_cursors", ["next_due_at"])


def downgrade() -> None:
    op.drop_index("ix_billing_cursors_next_due_at", table_name="billing_cursors")
    op.drop_table("billing_cursors")
    op.drop_table("qbo_item_refs")
    op.drop_index("ix_postings_company_id_agreement_id", table_name="postings")
    op.drop_index("ix_postings_company_id_state", table_name="postings")
    op.drop_index("ix_postings_state_next_attempt_at", table_name="postings")
    op.drop_table("postings")
