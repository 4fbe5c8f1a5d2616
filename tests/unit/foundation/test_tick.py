from datetime import UTC, datetime, timedelta, timezone

import pytest

from addon import tick as tick_module


@pytest.fixture(autouse=True)
def isolated_registry(monkeypatch):
    monkeypatch.setattr(tick_module, "_TASKS", {})


def test_tick_runs_every_registered_task_with_the_instant_in_utc():
    seen = []
    tick_module.register("a", lambda ctx: seen.append(("a", ctx.now)))
    tick_module.register("b", lambda ctx: seen.append(("b", ctx.now)))
    at = datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    report = tick_module.tick(at, container=None)
    assert report.ok
    assert seen == [("a", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)), ("b", datetime(2026, 12, 1, 0, 0, tzinfo=UTC))]


def test_a_failing_task_is_reported_and_does_not_stop_the_others():
    ran = []

    def broken(ctx):
        raise RuntimeError("harvest is down")

    tick_module.register("broken", broken)
    tick_module.register("after", lambda ctx: ran.append(True))
    report = tick_module.tick(datetime(2026, 1, 1, tzinfo=UTC), container=None)
    assert not report.ok
    assert ran == [True]
    assert report.outcomes[0].error == "RuntimeError: harvest is down"


def test_every_minutes_runs_only_on_multiples_of_the_epoch_minute():
    ran = []
    tick_module.register("five", lambda ctx: ran.append(ctx.now.minute), every_minutes=5)
    start = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    for minute in range(12):
        tick_module.tick(start + timedelta(minutes=minute), container=None)
    assert ran == [0, 5, 10]


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="naive"):
        tick_module.tick(datetime(2026, 1, 1), container=None)
