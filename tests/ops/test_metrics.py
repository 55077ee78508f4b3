"""GET /metrics: requests counted and timed by Flask endpoint and status, in Prometheus's text
format; the endpoint, never the path, so clients cannot make new series."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.support import ApiUser

REQUESTS = "microblog_http_requests_total"
DURATION = "microblog_http_request_duration_seconds"


def scrape(client: FlaskClient) -> list[Sample]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    matching = [
        sample.value
        for sample in samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    ]
    return sum(matching)


def test_requests_are_counted_by_endpoint_method_and_status(
    client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    for _ in range(3):
        client.get("/api/users")
    for _ in range(2):
        client.get(f"/api/users/{susan.id}", headers={"Authorization": f"Bearer {susan.token}"})
    client.get(f"/api/users/{susan.id + 100}", headers={"Authorization": f"Bearer {susan.token}"})

    samples = scrape(client)

    users = {"endpoint": "api.users.list_users", "method": "GET"}
    assert value(samples, REQUESTS, **users, status="401") == 3
    one = {"endpoint": "api.users.get_one_user", "method": "GET"}
    assert value(samples, REQUESTS, **one, status="200") == 2
    assert value(samples, REQUESTS, **one, status="404") == 1
    # `make_user` signed susan up and got her a token through the API.
    assert value(samples, REQUESTS, endpoint="api.users.create_user", status="201") == 1


def test_latencies_are_a_histogram(client: FlaskClient) -> None:
    for _ in range(4):
        client.get("/healthz")

    samples = scrape(client)

    labels = {"endpoint": "healthz", "method": "GET", "status": "200"}
    buckets = [s for s in samples if s.name == f"{DURATION}_bucket" and _has(s, labels)]
    bounds = [float(s.labels["le"]) for s in buckets]
    assert len(bounds) > 5 and bounds == sorted(bounds) and bounds[-1] == float("inf")
    counts = [s.value for s in buckets]
    assert counts == sorted(counts) and counts[-1] == 4
    assert value(samples, f"{DURATION}_count", **labels) == 4
    assert 0 < value(samples, f"{DURATION}_sum", **labels) < 10


def _has(sample: Sample, labels: dict[str, str]) -> bool:
    return all(sample.labels.get(key) == wanted for key, wanted in labels.items())


def test_paths_that_match_no_route_share_one_label(client: FlaskClient) -> None:
    for path in ("/no/such/page", "/api/nothing-here", "/api/users/not-a-number"):
        client.get(path)
    client.open("/healthz", method="BREW")

    response = client.get("/metrics")
    text = response.get_data(as_text=True)
    samples = scrape(client)

    assert value(samples, REQUESTS, endpoint="unmatched", status="404") == 3
    assert value(samples, REQUESTS, endpoint="unmatched", method="other", status="405") == 1
    assert "no/such/page" not in text and "nothing-here" not in text and "BREW" not in text


def test_each_app_counts_its_own_requests(make_other_app: Callable[..., Flask]) -> None:
    first, second = make_other_app().test_client(), make_other_app().test_client()
    for _ in range(3):
        first.get("/healthz")

    labels = {"endpoint": "healthz", "status": "200"}
    assert value(scrape(first), REQUESTS, **labels) == 3
    assert value(scrape(second), REQUESTS, **labels) == 0


def test_metrics_need_no_authentication_and_are_not_rate_limited(
    make_other_app: Callable[..., Flask],
) -> None:
    client = make_other_app(RATELIMIT_ENABLED=True, RATELIMIT_API="1 per minute").test_client()
    for _ in range(5):
        response = client.get("/metrics")
        assert response.status_code == 200
        assert "RateLimit-Remaining" not in response.headers
