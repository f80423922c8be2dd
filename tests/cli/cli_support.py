"""What the CLI tests share: the data dir the CLI runs against and the world it acts in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from client_world import World


@dataclass(frozen=True)
class CliEnv:
    data_dir: Path
    world: World

    def key_env(self, name: str) -> list[str]:
        """Options that make the CLI sign as actor `name` (its raw key in an env var: local only)."""
        return ["--key-env", f"TC_TEST_KEY_{name.upper()}"]
