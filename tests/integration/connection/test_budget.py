"""The per-company budget in a real Redis: windows, in-flight slots, back-off and leases."""

import threading
import time

import pytest
from redis import Redis

from addon.budget import BudgetLimits, CompanyBudget
from addon.ledger import Throttled

SCALED = BudgetLimits(per_minute=30, per_second=5, max_in_flight=3, minute_window=2.0, second_window=0.25,
                      backoff=0.5, max_wait=5.0, request_timeout=1.0)


@pytest.fixture
def redis(redis_url):
    conn = Redis.from_url(redis_url)
    yield conn
    conn.close()


@pytest.fixture
def budget(redis):
    return CompanyBudget(redis, SCALED)


def _max_in_any_window(starts, window):
    starts = sorted(starts)
    best, lo = 0, 0
    for hi, t in enumerate(starts):
        while starts[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_many_callers_never_exceed_the_windows_or_the_in_flight_limit(budget):
    starts, lock, state = [], threading.Lock(), {"now": 0, "peak": 0}

    def caller():
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            try:
                with budget.permit("co_northwind"):
                    with lock:
                        starts.append(time.time())
                        state["now"] += 1
                        state["peak"] = max(state["peak"], state["now"])
                    time.sleep(0.02)
                    with lock:
                        state["now"] -= 1
            except Throttled:
                pass

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state["peak"] <= 3
    assert _max_in_any_window(starts, 0.25) <= 5
    assert _max_in_any_window(starts, 2.0) <= 30
    # The budget is used, not just respected: the minute window filled at least once.
    assert len(starts) >= 30


def test_companies_have_separate_budgets(budget):
    held = [budget.acquire("co_northwind") for _ in range(3)]
    assert budget.in_flight("co_northwind") == 3
    assert budget.acquire("co_contoso")
    for permit in held:
        budget.release(permit)
    assert budget.in_flight("co_northwind") == 0


def test_after_a_429_the_company_pauses_for_the_back_off_then_resumes(budget):
    budget.back_off("co_northwind")
    with pytest.raises(Throttled) as caught:
        budget.acquire("co_northwind")
    assert 0 < caught.value.retry_after <= 0.5 and caught.value.retryable
    assert budget.acquire("co_contoso")
    time.sleep(budget.backoff_remaining("co_northwind") + 0.01)
    assert budget.acquire("co_northwind")


def test_a_wait_longer_than_the_callers_patience_raises_throttled_at_once(redis):
    impatient = CompanyBudget(redis, BudgetLimits(
        per_minute=2, per_second=5, max_in_flight=5, minute_window=30.0, second_window=1.0, backoff=60,
        max_wait=0.5, request_timeout=1.0))
    for _ in range(2):
        with impatient.permit("co_northwind"):
            pass
    started = time.monotonic()
    with pytest.raises(Throttled) as caught:
        impatient.acquire("co_northwind")
    assert caught.value.retry_after > 25 and time.monotonic() - started < 0.5


def test_a_slot_held_by_a_process_that_died_is_freed_when_its_lease_ends(redis):
    short = CompanyBudget(redis, BudgetLimits(
        per_minute=100, per_second=100, max_in_flight=1, minute_window=60.0, second_window=1.0, backoff=60,
        max_wait=10.0, request_timeout=0.0, lease_slack=0.2))
    short.acquire("co_northwind")  # never released, as if the process was killed
    assert short.acquire("co_northwind")  # waits out the lease (request timeout + slack) instead


@pytest.mark.parametrize("guard, waits", [(5.0, True), (0.0, False)])
def test_a_request_counts_in_the_second_window_while_in_flight_then_until_the_guard_or_its_answer(redis, guard,
                                                                                                 waits):
    budget = CompanyBudget(redis, BudgetLimits(per_minute=100, per_second=2, max_in_flight=10, minute_window=60.0,
                                               second_window=0.2, backoff=60, max_wait=0.5, request_timeout=5.0,
                                               window_guard=guard))
    slow = budget.acquire("co_northwind")  # a request that takes longer than the window
    budget.acquire("co_northwind")
    time.sleep(0.25)
    with pytest.raises(Throttled):
        budget.acquire("co_northwind")  # the slow one is still in flight: it still counts
    budget.release(slow)  # answered: counted a window more from min(answer, admission + guard)
    started = time.monotonic()
    assert budget.acquire("co_northwind")
    assert (time.monotonic() - started >= 0.15) is waits
