"""docs/operations.md lists every setting as the settings classes define it, so the two cannot drift."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_settings_doc", ROOT / "scripts" / "gen_settings_doc.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_settings_block_of_operations_md_matches_the_settings_classes() -> None:
    gen = _generator()
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert gen.update(text) == text, (
        "docs/operations.md is out of date: run python scripts/gen_settings_doc.py"
    )


def test_every_setting_appears_with_its_environment_variable() -> None:
    from api.config import ApiSettings
    from ledger.config import Settings

    block = _generator().render()
    for cls, prefix in ((Settings, "TIERCHAIN_"), (ApiSettings, "TIERCHAIN_API_")):
        for name, info in cls.model_fields.items():
            assert f"`{prefix}{name.upper()}`" in block
            assert info.description, f"{cls.__name__}.{name} needs a description for the settings reference"


def test_every_environment_variable_the_code_names_is_documented() -> None:
    """A `"TIERCHAIN_…"` string anywhere in the code or a network file is a variable someone must set or
    know about: each appears in the settings section of docs/operations.md."""
    import re

    literal = re.compile(r"[\"'](TIERCHAIN_[A-Z0-9_]*[A-Z0-9])[\"']")
    named: dict[str, Path] = {}
    for folder in ("ledger", "oracles", "api", "tierchain", "scripts", "chain_config"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and (path.suffix in (".py", ".toml") or path.parent.name == "scripts"):
                for name in literal.findall(path.read_text(encoding="utf-8", errors="replace")):
                    named.setdefault(name, path)
    assert "TIERCHAIN_NO_PROGRESS" in named  # the scan sees the code
    block = _generator().render()
    missing = {name: str(path.relative_to(ROOT)) for name, path in named.items() if f"`{name}`" not in block}
    assert not missing, (
        f"undocumented environment variables (add them to scripts/gen_settings_doc.py): {missing}"
    )
