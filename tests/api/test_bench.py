"""`tierchain.bench.api` runs end to end with wrk: its own chain, the anchor and the API server, and
reports each phase with its ratio to the anchor. Figures are not asserted (they depend on the
machine), only that every request was answered and the result has its shape."""

from __future__ import annotations

import shutil

import pytest

from tierchain.bench.api import bench_api, summary_lines
from tierchain.bench.wrk import HttpRequest, combine, lua_script, parse_summary

pytestmark = pytest.mark.chain

DRAIN_KEYS = {
    "operations_done",
    "operations_failed",
    "operations_unfinished",
    "seconds_first_accepted_to_last_done",
    "executed_per_second",
    "accepted_per_second",
    "executed_vs_ledger_raw",
}
PHASE_KEYS = {
    "endpoint",
    "requests",
    "seconds",
    "requests_per_second",
    "errors",
    "non_2xx_3xx",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "mean_ms",
    "vs_anchor",
    "server_cpu_ms_per_request",
    "anchor_cpu_ms_per_request",
    "cpu_vs_anchor",
}


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (scripts/setup installs it)")
def test_bench_api_reports_every_phase_against_the_anchor() -> None:
    result = bench_api(seconds=1.0, concurrency=4, workers=(1,), raw_seconds=1.0)
    assert result["concurrency"] == 4 and result["mining"] == "automine"
    raw = result["ledger_raw"]
    assert raw["mined_per_second"] > 0 and raw["reverted"] == 0 and raw["rejected"] == 0, raw
    (entry,) = result["rounds"]
    assert entry["workers"] == 1
    for name in ("health", "read", "split", "async_split"):
        assert entry[f"anchor_{name}"]["vs_anchor"] == 1.0
        for phase in (entry[name], entry[f"anchor_{name}"]):
            assert set(phase) - DRAIN_KEYS == PHASE_KEYS
            assert phase["requests"] > 0 and phase["errors"] == 0, phase
            assert 0 < phase["p50_ms"] <= phase["p99_ms"]
            assert phase["vs_anchor"] > 0
    drained = entry["async_split"]
    assert drained["operations_unfinished"] == 0 and drained["operations_failed"] == 0, drained
    assert drained["operations_done"] >= drained["requests"]  # every 202 ran
    assert drained["accepted_per_second"] == drained["requests_per_second"]
    assert drained["executed_per_second"] > 0 and drained["executed_vs_ledger_raw"] > 0
    assert len(summary_lines(result)) == 7


def test_the_script_cycles_requests_and_the_summary_is_parsed() -> None:
    script = lua_script(
        [
            HttpRequest("GET", "/v1/tokens/1", {"Authorization": "Bearer a"}),
            HttpRequest("POST", "/v1/tokens/2/split", {"Content-Type": "application/json"}, '{"x": "y"}'),
        ]
    )
    assert '"/v1/tokens/2/split"' in script and '"{\\"x\\": \\"y\\"}"' in script
    line = (
        'TIERCHAIN-WRK {"requests":200,"duration_us":2000000,"connect":0,"read":1,"write":0,"status":3,'
        '"timeout":0,"p50_us":1500,"p90_us":2500,"p99_us":9000,"mean_us":1700.0}'
    )
    parsed = parse_summary("Running 2s test\n" + line + "\n")
    assert parsed.requests_per_second == 100.0
    assert parsed.errors == 4 and parsed.non_2xx_3xx == 3
    assert (parsed.p50_ms, parsed.p99_ms) == (1.5, 9.0)
    with pytest.raises(Exception, match="no summary"):
        parse_summary("garbage")
    both = combine([parsed, parsed])
    assert both.requests == 400 and both.seconds == 4.0 and both.requests_per_second == 100.0
    assert both.p50_ms == 1.5 and both.errors == 8
