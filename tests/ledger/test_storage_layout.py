"""Storage-layout compatibility of ERC-7201 namespaces (ledger.upgrades.layout).

A tiny Solidity project is compiled twice: a "released" version 1 and a version 2 in which each
contract (one namespace each) makes one kind of change. One comparison then shows every rule at once;
the command-line tests reuse the cached extractions, so the module compiles only these two versions
(plus the real contracts, checked against the committed snapshot).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.upgrades.layout import (
    Extraction,
    LayoutError,
    compare,
    erc7201_slot,
    extract,
    load_snapshot,
    main,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = PROJECT_ROOT / "snapshots" / "storage-layout.json"
REC = "struct Rec { uint128 x; uint128 y; }"


def namespaced(contract: str, members: str, *, extra: str = "", slot: int | None = None) -> str:
    """A contract keeping its state in one ERC-7201 namespace `test.storage.<contract>`."""
    namespace = f"test.storage.{contract}"
    value = erc7201_slot(namespace) if slot is None else slot
    return f"""// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

contract {contract} {{
    {extra}

    /// @custom:storage-location erc7201:{namespace}
    struct {contract}Storage {{
        {members}
    }}

    // keccak256(abi.encode(uint256(keccak256("{namespace}")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT = 0x{value:064x};

    function _s() private pure returns ({contract}Storage storage $) {{
        assembly {{
            $.slot := STORAGE_SLOT
        }}
    }}
}}
"""


V1 = {
    "Same": namespaced("Same", "uint256 total; address owner; mapping(uint256 => Rec) recs;", extra=REC),
    "Grows": namespaced("Grows", "mapping(uint256 => Rec) recs; uint48 count;", extra=REC),
    "Reordered": namespaced("Reordered", "uint256 a; uint256 b;"),
    "Removed": namespaced("Removed", "uint256 a; uint256 b; uint256 c;"),
    "Retyped": namespaced("Retyped", "uint128 a; uint128 b;"),
    "Inserted": namespaced("Inserted", "uint256 a; uint256 b;"),
    "Renamed": namespaced("Renamed", "uint256 a; uint256 b;"),
    "Nested": namespaced("Nested", "uint256 a; mapping(uint256 => Rec) recs; Rec[] list;", extra=REC),
    "NestedRename": namespaced("NestedRename", "mapping(uint256 => Rec) recs;", extra=REC),
    "SlotConstant": namespaced("SlotConstant", "uint256 a;"),
    "Plain": namespaced("Plain", "uint256 a;"),
    "Dropped": namespaced("Dropped", "uint256 a;"),
}
V2 = {
    **V1,
    # the struct type is renamed (same members) and a member is appended into the last slot's free bytes
    "Grows": namespaced(
        "Grows",
        "mapping(uint256 => Record) recs; uint48 count; uint48 added;",
        extra=REC.replace("Rec", "Record"),
    ),
    "Reordered": namespaced("Reordered", "uint256 b; uint256 a;"),
    "Removed": namespaced("Removed", "uint256 a; uint256 c;"),
    "Retyped": namespaced("Retyped", "uint128 a; uint64 b;"),
    "Inserted": namespaced("Inserted", "uint256 a; uint256 fresh; uint256 b;"),
    "Renamed": namespaced("Renamed", "uint256 a; uint256 total;"),
    "Nested": namespaced(
        "Nested",
        "uint256 a; mapping(uint256 => Rec) recs; Rec[] list;",
        extra="struct Rec { uint128 x; uint64 y; uint8 z; }",
    ),
    "NestedRename": namespaced(
        "NestedRename", "mapping(uint256 => Rec) recs;", extra="struct Rec { uint128 x; uint128 z; }"
    ),
    "SlotConstant": namespaced(
        "SlotConstant", "uint256 a;", slot=erc7201_slot("test.storage.SlotConstant") + 0x100
    ),
    "Plain": namespaced("Plain", "uint256 a;", extra="uint256 public counter;"),
    "Fresh": namespaced("Fresh", "uint256 a;"),
    "Bookkeeping": "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\n\n"
    "contract Bookkeeping {\n    uint256 public entries;\n}\n",
}
del V2["Dropped"]


@dataclass
class Versions:
    base: Path
    v1: Path
    v2: Path
    snapshot: Path
    released: Extraction
    current: Extraction

    def cli(self, command: str, version: Path, *extra: str) -> list[str]:
        build = self.base / f"build-{version.parent.name}"
        return [
            command,
            "--root",
            str(PROJECT_ROOT),
            "--contracts",
            str(version),
            "--build-dir",
            str(build),
            *extra,
        ]


def _write(directory: Path, sources: dict[str, str]) -> Path:
    directory.mkdir(parents=True)
    for name, text in sources.items():
        (directory / f"{name}.sol").write_text(text)
    return directory


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Versions:
    base = tmp_path_factory.mktemp("layout")
    v1 = _write(base / "v1" / "contracts", V1)
    v2 = _write(base / "v2" / "contracts", V2)
    snapshot = base / "storage-layout.json"
    # version 1 goes through the command line (compiles once; later commands hit the cache)
    args = [
        "snapshot",
        "--root",
        str(PROJECT_ROOT),
        "--contracts",
        str(v1),
        "--build-dir",
        str(base / "build-v1"),
    ]
    assert main([*args, "--version", "1.0.0", "--snapshot", str(snapshot)]) == 0
    released = extract(PROJECT_ROOT, v1, base / "build-v1")
    current = extract(PROJECT_ROOT, v2, base / "build-v2")
    return Versions(base, v1, v2, snapshot, released, current)


def where(name: str) -> str:
    return f"{name} (test.storage.{name})"


def moved(member: str, before: int, after: int) -> str:
    return (
        f"member `{member}` moved from slot {before} offset 0 to slot {after} offset 0; "
        "released members must keep their place"
    )


def test_erc7201_formula_matches_openzeppelin() -> None:
    # AccessControlUpgradeable's literal constant, from the pinned package
    assert erc7201_slot("openzeppelin.storage.AccessControl") == int(
        "02dd7bc7dec4dceedda775e58dd541e08a116c6c53815c0bd028192f7b626800", 16
    )


def test_released_layout_is_read_from_the_compiler(versions: Versions) -> None:
    snapshot = load_snapshot(versions.snapshot)
    assert snapshot.version == "1.0.0"
    assert snapshot.compiler.startswith("0.8.")
    assert versions.released.problems == []
    same = snapshot.namespaces["test.storage.Same"]
    assert same.contract == "Same" and same.struct == "Same.SameStorage"
    assert same.slot == f"0x{erc7201_slot('test.storage.Same'):064x}"
    assert [(m.label, m.slot, m.offset, m.type) for m in same.members] == [
        ("total", 0, 0, "t_uint256"),
        ("owner", 1, 0, "t_address"),
        ("recs", 2, 0, "t_mapping(t_uint256,t_struct(Same.Rec)_storage)"),
    ]
    rec = same.types["t_struct(Same.Rec)_storage"]
    assert rec.members is not None and [(m.label, m.offset) for m in rec.members] == [("x", 0), ("y", 16)]
    assert snapshot.contracts["Same"].upgradeable and snapshot.contracts["Same"].storage == []
    # the probe contract is generated in the build directory, not among the sources
    assert (versions.base / "build-v1" / "StorageLayoutProbe.sol").is_file()
    assert not any(p.name.startswith("StorageLayoutProbe") for p in versions.v1.iterdir())


def test_every_change_is_reported_once_with_its_member(versions: Versions) -> None:
    released = load_snapshot(versions.snapshot)
    problems = versions.current.problems + compare(released, versions.current.layout).problems
    slot = erc7201_slot("test.storage.SlotConstant")
    v2 = str(versions.v2)
    nested_growth = (
        "member `z` (uint8) added at slot 0 offset 24; a nested struct must keep its released layout "
        "(append new state to the namespace struct instead)"
    )
    expected = [
        f'{where("SlotConstant")}: no bytes32 constant equals erc7201("test.storage.SlotConstant") = '
        f"0x{slot:064x}; found STORAGE_SLOT = 0x{slot + 0x100:064x}",
        "Plain: plain state variable `counter` (uint256, slot 0 offset 0, declared in "
        f"{v2}/Plain.sol:Plain); an upgradeable contract keeps all its state in ERC-7201 namespace structs",
        "Dropped (test.storage.Dropped): released namespace is gone (no struct is annotated "
        "@custom:storage-location erc7201:test.storage.Dropped); its state would be orphaned",
        f"{where('Inserted')}: {moved('b', 1, 2)}",
        f"{where('Inserted')}: member `fresh` (uint256) inserted at slot 1 offset 0, before released "
        "member `b`; new members may only be appended after the last released member `b`",
        f"{where('Nested')}: member `recs` → mapping value (struct Nested.Rec): member `y`: type changed "
        "from uint128 to uint64",
        f"{where('Nested')}: member `recs` → mapping value (struct Nested.Rec): {nested_growth}",
        f"{where('Nested')}: member `list` → array element (struct Nested.Rec): member `y`: type changed "
        "from uint128 to uint64",
        f"{where('Nested')}: member `list` → array element (struct Nested.Rec): {nested_growth}",
        f"{where('NestedRename')}: member `recs` → mapping value (struct NestedRename.Rec): member `y` "
        "renamed to `z`; if intended, allow it with --allow-rename NestedRename.Rec.y=z",
        f"{where('Removed')}: released member `b` (uint256, slot 1 offset 0) was removed",
        f"{where('Removed')}: {moved('c', 2, 1)}",
        f"{where('Renamed')}: member `b` renamed to `total`; if intended, allow it with "
        "--allow-rename Renamed.RenamedStorage.b=total",
        f"{where('Reordered')}: {moved('a', 0, 1)}",
        f"{where('Reordered')}: {moved('b', 1, 0)}",
        f"{where('Retyped')}: member `b`: type changed from uint128 to uint64",
    ]
    assert problems == expected
    assert not any(name in line for line in problems for name in ("Same", "Grows", "Fresh", "Bookkeeping"))
    assert not versions.current.layout.contracts["Bookkeeping"].upgradeable
    assert [v.label for v in versions.current.layout.contracts["Bookkeeping"].storage] == ["entries"]


def test_appends_renamed_struct_types_and_allowed_renames_pass(versions: Versions) -> None:
    released = load_snapshot(versions.snapshot)
    allowed = ["RenamedStorage.b=total", "NestedRename.Rec.y=z", "Same.SameStorage.nope=x"]
    result = compare(released, versions.current.layout, allowed)
    assert not any("Renamed" in line or "NestedRename" in line for line in result.problems)
    assert result.notes == ["--allow-rename Same.SameStorage.nope=x matched no member; remove it"]
    assert result.new_namespaces == ["test.storage.Fresh"]
    grows = versions.current.layout.namespaces["test.storage.Grows"]
    assert [(m.label, m.slot, m.offset) for m in grows.members][-1] == ("added", 1, 6)
    # identical versions: nothing to report
    assert compare(released, versions.released.layout).problems == []


def test_check_command_lists_problems_and_exits_1(
    versions: Versions, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(versions.cli("check", versions.v2, "--snapshot", str(versions.snapshot)))
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0] == f"storage layout: 16 problem(s) against released 1.0.0 ({versions.snapshot}):"
    assert f"  - {where('Retyped')}: member `b`: type changed from uint128 to uint64" in out


def test_check_command_passes_with_a_one_line_summary(
    versions: Versions, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(versions.cli("check", versions.v1, "--snapshot", str(versions.snapshot))) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"storage layout OK: 12 namespace(s) compatible with released 1.0.0 ({versions.snapshot}); "
        "0 member(s) appended"
    ]


def test_snapshot_command_refuses_bad_layouts_and_arguments(
    versions: Versions, capsys: pytest.CaptureFixture[str]
) -> None:
    before = versions.snapshot.read_text()
    path = ["--snapshot", str(versions.snapshot)]
    assert main([*versions.cli("snapshot", versions.v2, *path), "--version", "1.1.0"]) == 1
    assert "no snapshot written" in capsys.readouterr().out
    assert main([*versions.cli("snapshot", versions.v1, *path), "--version", "0.9.0"]) == 2
    assert "older than the released 1.0.0" in capsys.readouterr().err
    assert main([*versions.cli("snapshot", versions.v1, *path), "--version", "v2"]) == 2
    assert main([*versions.cli("check", versions.v1, *path), "--allow-rename", "b=total"]) == 2
    assert "expected <Struct>.<old>=<new>" in capsys.readouterr().err
    assert main([*versions.cli("snapshot", versions.v2, *path), "--version", "1.0.0"]) == 1
    assert "the current layout has problems; no snapshot written" in capsys.readouterr().err
    assert versions.snapshot.read_text() == before
    # the same version again replaces its layout (here: with the same one)
    assert main([*versions.cli("snapshot", versions.v1, *path), "--version", "1.0.0"]) == 0
    assert capsys.readouterr().out.startswith("storage layout 1.0.0 replaced in ")
    assert versions.snapshot.read_text() == before


def test_a_missing_or_malformed_snapshot_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="no released storage layout"):
        load_snapshot(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": "1.0.0", "compiler": "0.8.30", "namespaces": {}}))
    with pytest.raises(LayoutError, match=f"{bad}: not a storage-layout snapshot"):
        load_snapshot(bad)


def test_the_real_contracts_match_the_released_snapshot(tmp_path: Path) -> None:
    """contracts/ against snapshots/storage-layout.json, as scripts/test checks it."""
    released = load_snapshot(SNAPSHOT)
    current = extract(PROJECT_ROOT, build_dir=tmp_path)
    assert current.problems == []
    assert compare(released, current.layout).problems == []
    names = ["FinancingDesk", "IssuanceDesk", "ParticipantRegistry", "ReceivableToken", "RepaymentDesk"]
    for name in [*names, "TradeRegistry"]:
        namespace = released.namespaces[f"tierchain.storage.{name}"]
        assert namespace.contract == name and namespace.struct == f"{name}.{name}Storage"
        assert released.contracts[name].upgradeable and released.contracts[name].storage == []
    assert not released.contracts["SettlementToken"].upgradeable
