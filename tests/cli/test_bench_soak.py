"""`tierchain bench soak --minutes 1`: the mixed workload on the local-consortium network under random RPC
faults and short reorgs; nothing acknowledged is lost, nothing runs twice, and every check passes."""

from __future__ import annotations

import json
import traceback
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tierchain.cli import app

pytestmark = pytest.mark.chain


def test_one_minute_soak(project_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERCHAIN_PROJECT_ROOT", str(project_root))
    monkeypatch.setenv("TIERCHAIN_NO_PROGRESS", "1")
    result = CliRunner().invoke(app, ["bench", "soak", "--minutes", "1", "--seed", "7", "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        "".join(traceback.format_exception(result.exception)) + result.output[-4000:]
    )
    assert result.stdout.lstrip().startswith("{"), result.output[-4000:]
    report = json.loads(result.stdout)
    assert report["total"]["lost"] == 0, report["operations"]
    assert report["total"]["duplicated"] == 0, report["operations"]
    assert all(check["passed"] for check in report["checks"].values()), report["checks"]
    assert report["passed"] and result.exit_code == 0, result.output
    # A minute of 2-second blocks carries a few obligations through several kinds of step, under faults.
    assert report["total"]["attempted"] >= 20, report["total"]
    assert report["total"]["acknowledged"] >= 15, report["total"]
    assert sum(1 for row in report["operations"].values() if row["acknowledged"]) >= 5, report["operations"]
    assert sum(f["episodes"] for f in report["faults"].values()) >= 3, report["faults"]
    assert report["reorgs"]["count"] >= 1 and report["reorgs"]["resent"] == report["reorgs"]["steps_dropped"]
    assert report["minutes"] == 1 and report["block_time_s"] == 2
