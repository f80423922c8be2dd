"""`tierchain bench gas --json`: every operation measured on its own anvil, with its target beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tierchain.bench.gas import TARGETS
from tierchain.cli import app

pytestmark = pytest.mark.chain

OPERATIONS = {
    "attest_2of3",
    "propose",
    "confirm",
    "issue_total",
    "split_new_holder",
    "split_existing_holder",
    "split_trade_backed",
    "batch_split_10",
    "batch_split_10_per_piece",
    "transfer_whole_new_holder",
    "transfer_whole_existing_holder",
    "merge",
    "finance_whole",
    "finance_partial",
    "deposit",
    "redeem",
    "freeze",
    "split_pending",
    "accept_move",
    "split_pending_plus_accept",
    "refuse_move",
}


def test_bench_gas_json(project_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERCHAIN_PROJECT_ROOT", str(project_root))
    result = CliRunner().invoke(app, ["bench", "gas", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert set(figures) >= OPERATIONS
    assert figures["issue_total"]["gas"] == figures["propose"]["gas"] + figures["confirm"]["gas"]
    assert figures["batch_split_10_per_piece"]["gas"] == figures["batch_split_10"]["gas"] // 10
    pending = figures["split_pending"]["gas"] + figures["accept_move"]["gas"]
    assert figures["split_pending_plus_accept"]["gas"] == pending > figures["split_existing_holder"]["gas"]
    for name, figure in figures.items():
        assert figure["gas"] > 21_000
        assert figure["target"] == TARGETS.get(name)
        assert figure["met"] == (None if figure["target"] is None else figure["gas"] <= figure["target"])
