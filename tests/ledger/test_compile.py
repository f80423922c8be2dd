"""Compilation: artifacts, the content-hash cache, and compiler errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import ledger.compile as compile_mod
from ledger.compile import (
    CompileResult,
    abi_signature,
    compile_contracts,
    compiler_settings,
    load_abis,
    load_artifact,
    merge_abi,
)
from ledger.errors import ArtifactNotFound, CompilationError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_CONTRACTS = PROJECT_ROOT / "tests" / "fixtures" / "contracts"


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    target = tmp_path / "src"
    shutil.copytree(FIXTURE_CONTRACTS, target)
    return target


def test_settings_follow_foundry_toml() -> None:
    settings = compiler_settings(PROJECT_ROOT)
    assert settings["optimizer"] == {"enabled": True, "runs": 200}
    assert settings["evmVersion"] == "prague"
    assert settings["metadata"] == {"bytecodeHash": "none"}
    assert "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/" in settings["remappings"]


def test_compile_writes_artifacts_and_index(tmp_path: Path, sources: Path) -> None:
    result = compile_contracts(PROJECT_ROOT, tmp_path / "build", sources)
    assert not result.cached
    counter = load_artifact(tmp_path / "build", "Counter")
    assert counter.deployable and counter.bytecode.startswith("0x6")
    assert counter.compilerVersion.startswith("0.8.30")
    assert counter.sourceHash == result.source_hash
    assert "increment()" in counter.methodIdentifiers
    errors = {e["name"] for e in counter.abi if e["type"] == "error"}
    assert {"TokenFrozen", "CounterLimit", "ERC20InsufficientBalance"} <= errors
    interface = load_artifact(tmp_path / "build", "ICounter")
    assert not interface.deployable and interface.abi, "interfaces keep their ABI for error decoding"
    index = json.loads((tmp_path / "build" / "artifacts" / "index.json").read_text())
    assert index["sourceHash"] == result.source_hash
    assert set(index["contracts"]) == {"Counter", "ICounter"}
    assert set(load_abis(tmp_path / "build")) == {"Counter", "ICounter"}


def test_second_compile_is_a_cache_hit(
    tmp_path: Path, sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = compile_contracts(PROJECT_ROOT, tmp_path / "build", sources)

    def must_not_run(*_: Any) -> dict[str, Any]:
        raise AssertionError("solc invoked despite unchanged sources")

    monkeypatch.setattr(compile_mod, "_run_solc", must_not_run)
    second = compile_contracts(PROJECT_ROOT, tmp_path / "build", sources)
    assert second.cached and second.source_hash == first.source_hash
    assert second.artifacts["Counter"].bytecode == first.artifacts["Counter"].bytecode


def test_source_change_invalidates_cache(tmp_path: Path, sources: Path) -> None:
    first = compile_contracts(PROJECT_ROOT, tmp_path / "build", sources)
    counter = sources / "Counter.sol"
    counter.write_text(counter.read_text().replace("by > 1000", "by > 999"))
    second = compile_contracts(PROJECT_ROOT, tmp_path / "build", sources)
    assert not second.cached and second.source_hash != first.source_hash


def test_compiler_errors_are_listed(tmp_path: Path) -> None:
    (tmp_path / "Broken.sol").write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\n"
        "contract Broken { function f() external { x = 1; } }\n"
    )
    with pytest.raises(CompilationError) as info:
        compile_contracts(PROJECT_ROOT, tmp_path / "build", tmp_path)
    assert any("Undeclared identifier" in m for m in info.value.messages)
    assert not (tmp_path / "build" / "artifacts" / "index.json").exists()


def test_missing_import_is_a_compilation_error(tmp_path: Path) -> None:
    (tmp_path / "A.sol").write_text('pragma solidity ^0.8.24;\nimport "./Nope.sol";\ncontract A {}\n')
    with pytest.raises(CompilationError, match=r"Nope\.sol"):
        compile_contracts(PROJECT_ROOT, tmp_path / "build", tmp_path)


def test_imports_in_comments_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "A.sol").write_text(
        '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\n// import "./Nope.sol";\n'
        '/* import "./AlsoNope.sol"; */\ncontract A { string s = "//"; }\n'
    )
    result = compile_contracts(PROJECT_ROOT, tmp_path / "build", tmp_path)
    assert result.artifacts["A"].deployable


def test_load_missing_artifact(tmp_path: Path) -> None:
    with pytest.raises(ArtifactNotFound, match="NoSuch"):
        load_artifact(tmp_path, "NoSuch")


def _fn(name: str, *types: str, kind: str = "function") -> dict[str, Any]:
    return {"type": kind, "name": name, "inputs": [{"name": f"a{i}", "type": t} for i, t in enumerate(types)]}


def test_merge_abi_keeps_the_primary_and_adds_what_it_lacks() -> None:
    primary = [
        {"type": "constructor", "inputs": [{"name": "r", "type": "address"}]},
        _fn("ownerOf", "uint256"),
        _fn("Frozen", "uint256", "address", "uint32", kind="event"),
    ]
    other = [
        {"type": "constructor", "inputs": []},
        _fn("ownerOf", "uint256"),  # the same signature: once
        _fn("acceptMove", "uint256"),
        _fn("Frozen", "address", "uint256", "uint256", kind="event"),  # an overload: kept
        _fn("NotDelegated", "address", kind="error"),
    ]
    merged = merge_abi(primary, other)
    assert [abi_signature(e) for e in merged] == [
        "constructor",
        "function ownerOf(uint256)",
        "event Frozen(uint256,address,uint32)",
        "function acceptMove(uint256)",
        "event Frozen(address,uint256,uint256)",
        "error NotDelegated(address)",
    ]
    assert merged[0] is primary[0], "the primary's constructor stays"


def test_abi_signature_spells_tuples() -> None:
    entry = {
        "type": "function",
        "name": "f",
        "inputs": [{"type": "tuple[]", "components": [{"type": "address"}, {"type": "uint48"}]}],
    }
    assert abi_signature(entry) == "function f((address,uint48)[])"


def test_the_token_artifact_speaks_its_extension(tierchain_build: CompileResult) -> None:
    """The ABI of "ReceivableToken" is the token's merged with its extension's (delegated functions)."""
    token = tierchain_build.artifacts["ReceivableToken"]
    extension = tierchain_build.artifacts["ReceivableTokenExtension"]
    signatures = [abi_signature(e) for e in token.abi]
    assert len(signatures) == len(set(signatures)), "every entry once"
    assert {abi_signature(e) for e in extension.abi if e["type"] != "constructor"} <= set(signatures)
    ctor = next(e for e in token.abi if e["type"] == "constructor")
    assert [i["type"] for i in ctor["inputs"]] == ["address", "uint8", "address"]
    for fn in (
        "acceptMove(uint256)",
        "freeze(uint256,uint32)",
        "lineage(uint256)",
        "transferFrom(uint256,address,uint256)",
    ):
        assert fn in token.methodIdentifiers
