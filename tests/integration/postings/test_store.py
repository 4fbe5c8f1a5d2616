"""Posting uniqueness on both databases: one posting per business key, also when two workers race."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from addon import bootstrap, migrate
from addon.clock import utcnow
from addon.models.postings import Posting
from addon.postings.store import add_posting
from tests.integration.connection.conftest import add_company, make_settings
from tests.unit.postings.conftest import agreement_for, period_draft


def test_one_posting_per_business_key_even_when_two_workers_add_it_at_once(tmp_path, database_url, redis_url):
    container = bootstrap.build(make_settings(tmp_path, database_url, redis_url))
    migrate.upgrade(container.database)
    try:
        company_id = add_company(container).id
        draft = period_draft(agreement_for(company_id), date(2026, 2, 1))
        barrier, created = threading.Barrier(4), []

        def add():
            barrier.wait()
            with container.unit_of_work() as session:
                created.append(add_posting(session, draft, now=utcnow()).created)

        threads = [threading.Thread(target=add) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(created) == [False, False, False, True]
        with container.unit_of_work() as session:
            assert session.execute(select(func.count()).select_from(Posting)).scalar_one() == 1
            assert session.execute(select(Posting.created_at)).scalar_one() <= datetime.now(UTC)
    finally:
        container.database.dispose()
