"""Drive an HTTP server with wrk, the C load generator (Debian package `wrk`), and read its figures.

A Python load generator spends milliseconds of CPU per request on the same cores as the server, so
it measures itself; wrk spends microseconds. Each run gets a Lua script that cycles through a fixed
list of requests (method, path, headers, body) prepared once in `init`, and prints its summary as one
JSON line from `done`, so nothing is scraped from wrk's human-readable report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.errors import TierchainError

MARKER = "TIERCHAIN-WRK "


class LoadGeneratorMissing(TierchainError):
    """wrk is not installed."""


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None = None


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured. Errors are socket errors plus answers that were not 2xx/3xx."""

    requests: int
    seconds: float
    errors: int
    non_2xx_3xx: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(self.requests_per_second, 1),
            "errors": self.errors,
            "non_2xx_3xx": self.non_2xx_3xx,
            "p50_ms": round(self.p50_ms, 2),
            "p90_ms": round(self.p90_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "mean_ms": round(self.mean_ms, 2),
        }


def combine(results: list[WrkResult]) -> WrkResult:
    """Several runs as one: counts and time add up; p50, p90 and the mean are the runs' figures
    weighted by their requests, p99 the largest of them (latencies cannot be merged exactly)."""
    total = sum(r.requests for r in results)

    def weighted(pick: Callable[[WrkResult], float]) -> float:
        return sum(pick(r) * r.requests for r in results) / total if total else 0.0

    return WrkResult(
        requests=total,
        seconds=sum(r.seconds for r in results),
        errors=sum(r.errors for r in results),
        non_2xx_3xx=sum(r.non_2xx_3xx for r in results),
        p50_ms=weighted(lambda r: r.p50_ms),
        p90_ms=weighted(lambda r: r.p90_ms),
        p99_ms=max((r.p99_ms for r in results), default=0.0),
        mean_ms=weighted(lambda r: r.mean_ms),
    )


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise LoadGeneratorMissing(
            "the API benchmark drives the server with wrk, which is not installed: run scripts/setup as "
            "root (it installs Debian's wrk), or `apt-get install wrk`"
        )
    return found


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for these characters


def lua_script(requests: list[HttpRequest]) -> str:
    """The script: `requests` cycled in order, one summary line printed at the end."""
    if not requests:
        raise ValueError("at least one request is needed")
    specs = []
    for r in requests:
        headers = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in r.headers.items())
        body = "nil" if r.body is None else _lua_string(r.body)
        specs.append(f"{{{_lua_string(r.method)}, {_lua_string(r.path)}, {{{headers}}}, {body}}}")
    listed = ",\n  ".join(specs)
    return f"""
local specs = {{
  {listed}
}}
local prepared = {{}}
local at = 0

function init(args)
  for k, s in ipairs(specs) do prepared[k] = wrk.format(s[1], s[2], s[3], s[4]) end
end

function request()
  at = at % #prepared + 1
  return prepared[at]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{MARKER}{{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,'
      .. '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
"""


def parse_summary(output: str) -> WrkResult:
    """The JSON line the script's `done` printed."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            socket_errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
            return WrkResult(
                requests=int(data["requests"]),
                seconds=data["duration_us"] / 1e6,
                errors=socket_errors + int(data["status"]),
                non_2xx_3xx=int(data["status"]),
                p50_ms=data["p50_us"] / 1000,
                p90_ms=data["p90_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                mean_ms=data["mean_us"] / 1000,
            )
    raise TierchainError(f"wrk printed no summary; its output was:\n{output[-2000:]}")


def run_wrk(
    base_url: str,
    requests: list[HttpRequest],
    *,
    seconds: float,
    connections: int,
    threads: int = 1,
    timeout_seconds: float = 30.0,
) -> WrkResult:
    """Load `base_url` for `seconds` with `connections` kept-alive connections on `threads` threads."""
    binary = wrk_path()
    with tempfile.TemporaryDirectory(prefix="tierchain-wrk-") as tmp:
        script = Path(tmp) / "load.lua"
        script.write_text(lua_script(requests), encoding="utf-8")
        command = [
            binary,
            f"-t{threads}",
            f"-c{max(connections, threads)}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={timeout_seconds:g}s",
            "-s",
            str(script),
            base_url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout_seconds + 30)
    if done.returncode != 0:
        raise TierchainError(
            f"wrk exited with {done.returncode}: {done.stderr.strip() or done.stdout[-500:]}"
        )
    return parse_summary(done.stdout)
