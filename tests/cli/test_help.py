"""`--help` works for the command and every group and command under it (no chain needed)."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tierchain.cli import app


def _paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, sub in getattr(command, "commands", {}).items():  # a group: its subcommands
        found += _paths(sub, (*prefix, name))
    return found


PATHS = _paths(typer.main.get_command(app))


def test_every_group_is_there() -> None:
    groups = {p[0] for p in PATHS if p}
    assert {
        "chain", "compile", "deploy", "participant", "obligation", "token", "finance",
        "repay", "report", "index", "oracle", "serve", "bench",
    } <= groups  # fmt: skip
    assert ("report", "lineage") in PATHS and ("token", "split-batch") in PATHS
    assert ("repay", "declare-default") in PATHS and ("finance", "quote") in PATHS


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "tierchain")
def test_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_ledger_does_not_import_the_api() -> None:
    import subprocess
    import sys

    code = "import sys, tierchain.cli; print(any(m == 'api' or m.startswith('api.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
