"""The "Your own network in ten minutes" walk-through of docs/operations.md works as written.

The ```` ```bash walkthrough ```` blocks of that section are extracted and run verbatim, in order, in
one `bash` session with `set -euo pipefail`, from the checkout's root, with the virtual environment's
commands first on the `PATH` and a fresh data dir: the first block runs `tierchain dev up`, the last
`tierchain dev down`. Each block must exit 0; a failure names the block and shows its output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.chain

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "operations.md"
SECTION = "## Your own network in ten minutes"
BLOCK = re.compile(r"^```bash walkthrough\n(.*?)^```$", re.MULTILINE | re.DOTALL)
DONE = "@@walkthrough block {} exited 0@@"


def walkthrough_blocks(text: str) -> list[str]:
    """The marked shell blocks of the walk-through section, in document order."""
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return BLOCK.findall(text[start : end if end >= 0 else len(text)])


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERCHAIN_")}
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "TIERCHAIN_DATA_DIR": str(tmp_path / "data"),
            "TMPDIR": str(tmp_path),
        }
    )
    return env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    environment = _env(tmp_path)
    yield environment
    # Whatever the walk-through left running (it stops the world itself when it gets to the end).
    subprocess.run(
        [sys.executable, "-m", "tierchain.cli", "dev", "down"], cwd=ROOT, env=environment,
        capture_output=True, timeout=120,
    )  # fmt: skip


def test_the_walkthrough_has_its_steps_from_dev_up_to_dev_down() -> None:
    blocks = walkthrough_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    assert "tierchain dev up" in blocks[0] and "tierchain dev down" in blocks[-1]


def test_every_walkthrough_block_runs_verbatim_and_exits_0(env: dict[str, str]) -> None:
    blocks = walkthrough_blocks(DOC.read_text(encoding="utf-8"))
    script = ["set -euo pipefail"]
    for number, block in enumerate(blocks, start=1):
        script += [block, f"echo '{DONE.format(number)}'"]
    run = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    done = [n for n in range(1, len(blocks) + 1) if DONE.format(n) in run.stdout]
    failed = len(done) + 1
    shown = blocks[failed - 1] if failed <= len(blocks) else "(after the last block)"
    assert run.returncode == 0 and len(done) == len(blocks), (
        f"block {failed} of {len(blocks)} failed (exit {run.returncode}):\n{shown}"
        f"\n--- stdout (end) ---\n{run.stdout[-4000:]}\n--- stderr (end) ---\n{run.stderr[-4000:]}"
    )
