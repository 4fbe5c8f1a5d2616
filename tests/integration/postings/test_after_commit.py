"""Jobs are enqueued when the outermost transaction commits: a released savepoint runs nothing yet, a
rolled-back savepoint forgets only what was registered inside it, and a rolled-back transaction forgets
everything (SQLAlchemy signals after_commit and after_rollback for savepoints too)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from addon.eventflow import after_commit


def test_a_released_savepoint_runs_nothing_and_the_commit_runs_everything_once(container):
    ran: list[str] = []
    with container.unit_of_work() as session:
        session.execute(text("select 1"))
        after_commit(session, lambda: ran.append("outer"))
        with session.begin_nested():
            after_commit(session, lambda: ran.append("inside a released savepoint"))
        assert ran == [], "released savepoint ran the after-commit steps before the commit"
        with session.begin_nested():
            pass
        assert ran == []
    assert ran == ["outer", "inside a released savepoint"]


def test_a_rolled_back_savepoint_forgets_only_what_was_registered_inside_it(container):
    ran: list[str] = []
    with container.unit_of_work() as session:
        after_commit(session, lambda: ran.append("before"))  # no statement yet: the transaction begins later
        try:
            with session.begin_nested():
                after_commit(session, lambda: ran.append("in the failed savepoint"))
                with session.begin_nested():
                    after_commit(session, lambda: ran.append("in a savepoint inside it"))
                raise RuntimeError("undo")
        except RuntimeError:
            pass
        after_commit(session, lambda: ran.append("after"))
    assert ran == ["before", "after"]


def test_a_rolled_back_transaction_forgets_everything(container):
    ran: list[str] = []
    with pytest.raises(RuntimeError):
        with container.unit_of_work() as session:
            session.execute(text("select 1"))
            after_commit(session, lambda: ran.append("outer"))
            raise RuntimeError("undo all")
    assert ran == []


def test_a_posting_drafted_beside_a_savepoint_is_enqueued_only_after_the_commit(container, monkeypatch):
    from addon.postings import jobs

    seen: list[tuple[int, bool]] = []
    monkeypatch.setattr(jobs, "enqueue", lambda _c, posting_id, *a, **k: seen.append((posting_id, committed)))
    committed = False
    with container.unit_of_work() as session:
        session.execute(text("select 1"))
        jobs.enqueue_after_commit(session, container, 7, "co_1", 0)
        with session.begin_nested():  # as the usage ledger's consume does after a posting is added
            pass
        assert seen == []
        committed = True
    assert seen == [(7, True)]
