"""Imports point down: tierchain (CLI, benchmarks) -> api -> oracles -> ledger.

Read from the source with `ast`, so a lazy import inside a function counts as much as one at the top:
the rule is about what each layer may depend on, not about when it loads it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What each package may import from the project's other packages.
ALLOWED = {
    "ledger": set(),
    "oracles": {"ledger"},
    "api": {"ledger", "oracles"},
    "tierchain": {"ledger", "oracles", "api"},
}


def project_imports(source: Path) -> set[str]:
    """Top-level project packages `source` imports (absolute imports only; relative ones stay inside)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names if name.split(".")[0] in ALLOWED)
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported - ALLOWED[package] - {package})
        for path in sorted((ROOT / package).rglob("*.py"))
        if (imported := project_imports(path)) - ALLOWED[package] - {package}
    }
    assert not wrong, f"{package} must import only {sorted(ALLOWED[package])}: {wrong}"


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from api.app import create_app\n    import tierchain.cli\n")
    assert project_imports(module) == {"api", "tierchain"}


def test_benchmarks_and_the_command_line_live_in_the_top_layer() -> None:
    assert not (ROOT / "ledger" / "cli").exists()
    misplaced = [
        str(path.relative_to(ROOT))
        for package in ("ledger", "oracles", "api")
        for path in (ROOT / package).rglob("bench*.py")
    ]
    assert not misplaced, f"benchmarks live in tierchain/bench: {misplaced}"
    assert (ROOT / "tierchain" / "cli" / "__init__.py").is_file()
