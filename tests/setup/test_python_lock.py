"""`requirements.lock` pins every Python package `scripts/setup` installs, by version and by hash."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PINNED = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;[^\\]*)?\\$")
HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}(?:\s*\\)?$")


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines.extend(extra)
    return [Requirement(line) for line in lines]


def _locked() -> dict[str, tuple[Version, int]]:
    """Each locked package with its version and how many hashes follow it; fails on any other line."""
    pins: dict[str, tuple[Version, int]] = {}
    current: str | None = None
    for number, raw in enumerate(LOCK.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if raw[0].isspace() and current is not None and HASH.match(line):
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
            continue
        pinned = PINNED.match(line)
        assert pinned, f"requirements.lock line {number} is not `name==version \\` or a sha256 hash: {raw!r}"
        current = canonicalize_name(pinned["name"])
        assert current not in pins, f"{current} is locked twice"
        pins[current] = (Version(pinned["version"]), 0)
    return pins


def test_python_lock_pins_every_package_by_version_and_hash() -> None:
    pins = _locked()

    assert pins, "requirements.lock holds no packages"
    unhashed = sorted(name for name, (_, hashes) in pins.items() if hashes == 0)
    assert unhashed == [], f"locked without a hash: {unhashed}"


def test_python_lock_covers_every_dependency_pyproject_declares() -> None:
    pins = _locked()

    missing = sorted(str(r) for r in _declared() if canonicalize_name(r.name) not in pins)
    outside = sorted(
        f"{r} (locked {pins[canonicalize_name(r.name)][0]})"
        for r in _declared()
        if canonicalize_name(r.name) in pins
        and not r.specifier.contains(pins[canonicalize_name(r.name)][0], prereleases=True)
    )
    assert missing == [], f"declared in pyproject.toml but not in requirements.lock: {missing}"
    assert outside == [], f"locked outside the range pyproject.toml declares: {outside}"
