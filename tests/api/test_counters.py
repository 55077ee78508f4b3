"""The rate-limit counters: one storage operation a count, windows aligned on the clock."""

from __future__ import annotations

import time

from limits import parse

from microblog.api.counters import Counters, MemoryCounts


def test_counts_add_up_within_a_window_and_start_again_after_it() -> None:
    counts = MemoryCounts()
    assert [counts.incr("a", 1) for _ in range(3)] == [1, 2, 3]
    assert counts.incr("b", 1) == 1
    deadline = time.monotonic() + 5
    while counts.incr("a", 1) != 1:  # once its second has passed
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_window_says_how_many_remain_and_ends_on_the_clock() -> None:
    counters = Counters(None, "test")
    limit = parse("2 per minute")
    first, second, third = (counters.spend(limit, "scope", "client") for _ in range(3))
    assert (first.remaining, second.remaining, third.remaining) == (1, 0, 0)
    assert not second.refused and third.refused
    assert third.reset_at % 60 == 0 and 0 <= third.seconds_left() <= 60
    assert not counters.spend(limit, "scope", "another client").refused
