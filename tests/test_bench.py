"""The benchmark harness reads wrk's report right and sums up its rounds by their median."""

from __future__ import annotations

import pytest

from bench import wrk
from bench.run import _median_of

REPORT = """\
Running 6s test @ http://127.0.0.1:8000/api/ping
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.21ms    1.02ms  21.31ms   88.12%
    Req/Sec     1.23k    80.11     1.40k    70.00%
  Latency Distribution
     50%    6.10ms
     75%    6.60ms
     90%    7.20ms
     99%   10.70ms
  14702 requests in 6.00s, 3.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   2449.87
Transfer/sec:    529.12KB
"""


def test_a_wrk_report_is_read_with_its_errors() -> None:
    result = wrk.parse(REPORT)

    assert result == wrk.Result(
        requests_per_second=2449.87, p50_ms=6.1, p99_ms=10.7, requests=14702, errors=9
    )


def test_latencies_in_seconds_and_microseconds_are_milliseconds() -> None:
    report = REPORT.replace("6.10ms", "850.00us").replace("10.70ms", "1.98s")

    result = wrk.parse(report)

    assert (result.p50_ms, result.p99_ms) == (0.85, 1980.0)


def test_a_report_without_percentiles_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot read"):
        wrk.parse("Requests/sec: 10\n")


def test_rounds_are_summed_up_by_their_median() -> None:
    rounds = [
        wrk.Result(1000, 10, 40, 6000, 0),
        wrk.Result(400, 30, 200, 2400, 2),  # the round a noise burst spoilt
        wrk.Result(1100, 9, 35, 6600, 0),
    ]

    figures = _median_of(rounds)

    assert figures["requests_per_second"] == 1000
    assert figures["p99_ms"] == 40
    assert figures["errors"] == 2
    assert len(figures["rounds"]) == 3


def test_the_ceiling_is_a_bare_flask_app_with_one_route_and_no_hook() -> None:
    from bench.bare import app

    routes = [rule.rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    hooks = (
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
        app.url_value_preprocessors,
    )

    assert routes == ["/"]
    assert app.extensions == {}
    assert all(not registered for registered in hooks)
    assert app.test_client().get("/").json == {"status": "ok"}
