"""`tierchain.bench.api` runs end to end: its own chain and server, reads and splits; figures are not asserted
(they depend on the machine), only that every request was answered and the result has its shape."""

from __future__ import annotations

import pytest

from tierchain.bench.api import bench_api

pytestmark = pytest.mark.chain

PHASE_KEYS = {
    "endpoint",
    "requests",
    "errors",
    "seconds",
    "requests_per_second",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "mean_ms",
    "statuses",
    "server_cpu_ms_per_request",
    "client_cpu_ms_per_request",
}


def test_bench_api_reports_reads_and_splits() -> None:
    result = bench_api(seconds=2.0, concurrency=4, max_requests=400)
    assert result["mining"] == "automine" and result["concurrency"] == 4
    for name in ("baseline", "read", "split"):
        phase = result[name]
        assert set(phase) == PHASE_KEYS
        assert phase["requests"] > 0 and phase["errors"] == 0, phase
        assert set(phase["statuses"]) == {"200"}
        assert 0 < phase["p50_ms"] <= phase["p95_ms"] <= phase["p99_ms"]
