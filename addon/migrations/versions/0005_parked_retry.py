"""Parked jobs keep their RQ retry policy, so work resumed after a reconnect retries as it would have.

Revision ID: 0005_parked_retry
Revises: 0004_postings
Create Date: 2026-01-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_parked_retry"
down_revision = "0004_postings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("parked_jobs", sa.Column("retry", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("parked_jobs") as batch:  # SQLite drops a column by rebuilding the table
        batch.drop_column("retry")
