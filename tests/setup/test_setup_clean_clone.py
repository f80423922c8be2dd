"""`scripts/setup` on a fresh clone leaves `git status` clean.

Each test clones the committed repository into a temporary folder and runs set-up steps there. They
reach only the npm registry and PyPI (npm's and pip's local caches make repeated runs quick) and
never the Debian step, which installs a browser outside the tree. The npm step (about 10 s) runs
always; the Python step installs about 100 packages into a new venv (1.5 to 3.5 minutes on two
shared cores), so that test runs only when asked for: `pytest -m setup tests/setup`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (ROOT / ".git").exists() or shutil.which("git") is None or shutil.which("npm") is None,
    reason="needs the project's git checkout, git and npm",
)


def _run(args: list[str], cwd: Path, timeout: float) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "GIT_"))}
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    target = tmp_path / "clone"
    _run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(target)], tmp_path, 60)
    return target


def _git_status(repo: Path) -> str:
    return _run(["git", "status", "--porcelain", "--untracked-files=all"], repo, 30)


def test_npm_step_of_setup_leaves_a_fresh_clone_clean(clone: Path) -> None:
    _run(["scripts/setup", "npm"], clone, 300)

    assert (clone / "node_modules" / ".bin" / "forge").exists()
    assert _git_status(clone) == "", "set-up changed tracked files or left untracked ones"
    # The lock is exactly what `npm install` writes, so a developer's `npm install` changes nothing either.
    _run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], clone, 300)
    assert _git_status(clone) == "", "`npm install` rewrote package-lock.json: commit the lock it writes"


def test_what_the_python_step_writes_is_git_ignored(clone: Path) -> None:
    # The venv, the editable install's metadata and setuptools' build folder (the full step: below).
    written = [".venv/bin/python", "tierchain.egg-info/PKG-INFO", "build/lib/ledger/__init__.py"]

    ignored = _run(["git", "check-ignore", *written], clone, 30).split()

    assert ignored == written


@pytest.mark.setup
def test_npm_and_python_steps_of_setup_leave_a_fresh_clone_clean(
    clone: Path, request: pytest.FixtureRequest
) -> None:
    if "setup" not in (request.config.option.markexpr or ""):
        pytest.skip("installs the Python packages into a new venv (minutes): run with -m setup")
    _run(["scripts/setup", "npm", "python"], clone, 600)

    assert _git_status(clone) == "", "set-up changed tracked files or left untracked ones"
    where = _run([".venv/bin/python", "-c", "import api, ledger, oracles; print(ledger.__file__)"], clone, 60)
    assert Path(where.strip()).is_relative_to(clone), "the clone's .venv must use the clone's sources"
