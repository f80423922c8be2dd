"""Storage-layout compatibility of the upgradeable contracts between releases (ERC-7201 namespaces).

Each upgradeable contract keeps all of its state in one struct at an ERC-7201 location::

    /// @custom:storage-location erc7201:tierchain.storage.<Name>
    struct <Name>Storage { ... }

`forge inspect <Name> storageLayout` does not show such structs, so this module asks the compiler
itself. It parses `contracts/**/*.sol` (solc AST, `stopAfter: parsing`) to find every struct whose
NatSpec carries `@custom:storage-location erc7201:<namespace>`, then compiles a generated probe
contract (written to the build directory, never committed) that declares one state variable of each
such struct type; solc's `storageLayout` of the probe gives every member's slot, offset and type, with
the full `types` table (nested structs, mappings, arrays). The same compile (analysis only, no code
generation, so it takes seconds) gives each contract's plain `storageLayout` and the AST used to
check the slot constants.

Rules checked against the last released layout (`snapshots/storage-layout.json`):

1. Every released namespace still exists (a struct annotated with the same namespace).
2. Every released member of a namespace struct keeps its slot, its offset and its type. Types are
   compared by their canonical description, resolved through the types table: a struct compares by
   its members (label, slot, offset, type) recursively, not by its name; a mapping by its key and
   value; an array by its element (and length); anything else by its label, encoding and size.
   Renaming a struct type is therefore fine; changing any nested struct is not (a struct nested in
   the namespace, in a mapping or in an array must keep its released layout exactly; new state goes
   into new members appended to the namespace struct).
3. New members may only be appended after the last released member, and an appended member must not
   overlap any released member's bytes. A new member placed before a released member is an insertion
   and is refused (the released members after it move, and each move is reported too).
4. Renaming a member (same place, same type, new label) is refused unless it is allowed explicitly
   with `--allow-rename <Struct>.<old>=<new>` (the struct as `Contract.Struct` or just `Struct`).
5. A new namespace is fine.

Rules checked on the current sources alone (they also keep a snapshot from being written):

6. The contract declaring a namespace has a `bytes32` constant equal to
   `erc7201(ns) = keccak256(abi.encode(uint256(keccak256(ns)) - 1)) & ~bytes32(uint256(0xff))`
   (a literal, or the formula written out), and uses it.
7. An upgradeable contract (one that declares or inherits a namespace, or inherits `Initializable`)
   has no plain state variables: its plain `storageLayout` is empty (the OpenZeppelin upgradeable
   parents keep theirs in ERC-7201 namespaces too). Other contracts' plain layouts are recorded only.
8. A namespace is declared once, inside a contract (or library), with the `erc7201` formula.

Each problem is one line naming the contract, the namespace, the member and what changed.

Command line::

    python -m ledger.upgrades.layout check [--allow-rename Struct.old=new ...]
    python -m ledger.upgrades.layout snapshot --version 1.1.0

`check` exits 1 listing the problems, 0 with a one-line summary, 2 on a malformed argument (as does
`snapshot`). `snapshot` (run when a version is
released) writes the snapshot, refusing a layout that has problems of its own, a version older than
the snapshot's, or (for a newer version) a layout incompatible with the snapshot it succeeds; the
same version again replaces its layout (a release corrected before it was deployed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ledger.compile import _run_solc, _solc_version, collect_sources, compiler_settings
from ledger.errors import CompilationError, TierchainError

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SNAPSHOT = Path("snapshots") / "storage-layout.json"
DEFAULT_BUILD_DIR = Path("build") / "storage-layout"
PROBE_CONTRACT = "StorageLayoutProbe"
PROBE_FILE = "StorageLayoutProbe.sol"
INITIALIZABLE_BASES = frozenset({"Initializable", "UUPSUpgradeable"})

_MASK_256 = (1 << 256) - 1
_LOCATION_TAG = re.compile(r"@custom:storage-location\s+(\S+)")
_NAMED_TYPE = re.compile(r"t_(struct|enum|contract|userDefinedValueType)\(([\w$]+)\)(\d+)")
_STATIC_LENGTH = re.compile(r"\[(\d+)\]$")
_RENAME = re.compile(r"^([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\.([A-Za-z_$][\w$]*)=([A-Za-z_$][\w$]*)$")
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class LayoutError(TierchainError):
    """A layout could not be read or written: a missing or malformed snapshot, a refused snapshot."""


class LayoutUsageError(LayoutError):
    """A command-line argument is malformed (the message names it)."""


# --- the snapshot format -------------------------------------------------------------------------


class Member(BaseModel):
    """One member of a struct (or one plain state variable): where it lives and its type id."""

    model_config = ConfigDict(extra="forbid")

    label: str
    slot: int
    offset: int
    type: str


class TypeInfo(BaseModel):
    """One entry of solc's storage `types` table (ids normalized: no AST ids)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    encoding: str
    label: str
    number_of_bytes: int = Field(alias="numberOfBytes")
    members: list[Member] | None = None
    key: str | None = None
    value: str | None = None
    base: str | None = None

    def references(self) -> list[str]:
        """The type ids this type refers to."""
        refs = [r for r in (self.key, self.value, self.base) if r is not None]
        return refs + [m.type for m in self.members or []]


class Namespace(BaseModel):
    """The layout of one ERC-7201 namespace struct."""

    model_config = ConfigDict(extra="forbid")

    contract: str
    source: str
    struct: str
    slot: str
    members: list[Member]
    types: dict[str, TypeInfo]

    @model_validator(mode="after")
    def _types_are_complete(self) -> Namespace:
        wanted = [m.type for m in self.members]
        for info in self.types.values():
            wanted += info.references()
        missing = sorted({t for t in wanted if t not in self.types})
        if missing:
            raise ValueError(f"types table lacks {', '.join(missing)}")
        return self


class PlainVariable(BaseModel):
    """A plain (non-namespaced) state variable of a contract, as solc lays it out."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    label: str
    slot: int
    offset: int
    type: str
    declared_in: str = Field(alias="declaredIn")


class ContractStorage(BaseModel):
    """A contract's plain storage layout; an upgradeable contract must have none."""

    model_config = ConfigDict(extra="forbid")

    source: str
    upgradeable: bool
    storage: list[PlainVariable]


class LayoutSnapshot(BaseModel):
    """The storage layout of a release: every namespace and every contract's plain layout."""

    model_config = ConfigDict(extra="forbid")

    version: str
    compiler: str
    namespaces: dict[str, Namespace]
    contracts: dict[str, ContractStorage]

    def to_json(self) -> str:
        return json.dumps(self.model_dump(by_alias=True, exclude_none=True), indent=2) + "\n"


class Extraction(BaseModel):
    """The current sources' layout and the problems found in them alone (rules 6 to 8)."""

    layout: LayoutSnapshot
    problems: list[str]


# --- the ERC-7201 formula and constant evaluation ------------------------------------------------


def erc7201_slot(namespace: str) -> int:
    """keccak256(abi.encode(uint256(keccak256(namespace)) - 1)) & ~bytes32(uint256(0xff))."""
    inner = (int.from_bytes(keccak(namespace.encode()), "big") - 1) & _MASK_256
    return int.from_bytes(keccak(inner.to_bytes(32, "big")), "big") & ~0xFF & _MASK_256


def _hex32(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def _ref(value: Any) -> int:
    """An AST reference (a declaration id), or -1 when the node has none."""
    return value if isinstance(value, int) else -1


def _as_word(value: int | bytes | None) -> int | None:
    """A bytes32 constant's value as an integer (a hex"..." literal of 32 bytes included)."""
    if isinstance(value, bytes):
        return int.from_bytes(value, "big") if len(value) == 32 else None
    return value


def _eval_constant(
    node: Mapping[str, Any], constants: Mapping[int, Mapping[str, Any]], depth: int = 0
) -> int | bytes | None:
    """The value (int, or bytes for strings) of a constant expression, or None if not understood.

    Understands literals, references to other constants, parentheses, elementary type conversions,
    `keccak256`, `abi.encode` of 32-byte values, arithmetic and bit operations: enough for a literal
    slot or the ERC-7201 formula written out.
    """
    if depth > 32:
        return None
    kind = node.get("nodeType")
    if kind == "Literal":
        if node.get("subdenomination"):
            return None
        if node.get("kind") in ("string", "hexString"):
            return bytes.fromhex(str(node.get("hexValue", "")))
        text = str(node.get("value", "")).replace("_", "")
        try:
            return int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            return None
    if kind == "TupleExpression":
        parts = node.get("components") or []
        return _eval_constant(parts[0], constants, depth + 1) if len(parts) == 1 and parts[0] else None
    if kind == "Identifier":
        target = constants.get(_ref(node.get("referencedDeclaration")))
        return (
            _eval_constant(target["value"], constants, depth + 1) if target and target.get("value") else None
        )
    if kind == "UnaryOperation":
        operand = _eval_constant(node["subExpression"], constants, depth + 1)
        return (~operand) & _MASK_256 if node.get("operator") == "~" and isinstance(operand, int) else None
    if kind == "BinaryOperation":
        left = _eval_constant(node["leftExpression"], constants, depth + 1)
        right = _eval_constant(node["rightExpression"], constants, depth + 1)
        if not (isinstance(left, int) and isinstance(right, int)):
            return None
        operations: dict[str, Callable[[int, int], int]] = {
            "+": lambda a, b: a + b,
            "-": lambda a, b: a - b,
            "*": lambda a, b: a * b,
            "&": lambda a, b: a & b,
            "|": lambda a, b: a | b,
            "^": lambda a, b: a ^ b,
            "<<": lambda a, b: a << b,
            ">>": lambda a, b: a >> b,
        }
        operation = operations.get(str(node.get("operator")))
        return operation(left, right) & _MASK_256 if operation else None
    if kind == "FunctionCall":
        return _eval_call(node, constants, depth)
    return None


def _eval_call(
    node: Mapping[str, Any], constants: Mapping[int, Mapping[str, Any]], depth: int
) -> int | bytes | None:
    args = [_eval_constant(a, constants, depth + 1) for a in node.get("arguments", [])]
    callee = node.get("expression", {})
    if node.get("kind") == "typeConversion" and len(args) == 1:
        value = args[0]
        if isinstance(value, bytes):  # a string literal converted to bytesN: left-aligned
            return int.from_bytes(value.ljust(32, b"\0")[:32], "big") if len(value) <= 32 else None
        return value & _MASK_256 if isinstance(value, int) else None
    if callee.get("nodeType") == "Identifier" and callee.get("name") == "keccak256" and len(args) == 1:
        return int.from_bytes(keccak(args[0]), "big") if isinstance(args[0], bytes) else None
    is_abi_encode = (
        callee.get("nodeType") == "MemberAccess"
        and callee.get("memberName") == "encode"
        and callee.get("expression", {}).get("name") == "abi"
    )
    if is_abi_encode and args and all(isinstance(a, int) for a in args):
        return b"".join(a.to_bytes(32, "big") for a in args if isinstance(a, int))
    return None


# --- reading the compiler's output ---------------------------------------------------------------


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


@dataclass(frozen=True)
class _Declared:
    """A struct annotated with an ERC-7201 namespace, found in the parsed sources."""

    namespace: str
    unit: str
    contract: str
    struct: str


def _find_namespaces(asts: Mapping[str, Any], own: Sequence[str]) -> tuple[list[_Declared], list[str]]:
    found: list[_Declared] = []
    problems: list[str] = []
    for unit in own:
        structs: list[tuple[str | None, dict[str, Any]]] = []
        for top in asts[unit].get("nodes", []):
            if top.get("nodeType") == "StructDefinition":
                structs.append((None, top))
            elif top.get("nodeType") == "ContractDefinition":
                structs += [
                    (str(top["name"]), n)
                    for n in top.get("nodes", [])
                    if n.get("nodeType") == "StructDefinition"
                ]
        for owner, node in structs:
            doc = node.get("documentation")
            text = doc.get("text", "") if isinstance(doc, dict) else str(doc or "")
            tag = _LOCATION_TAG.search(text)
            if tag is None:
                continue
            formula, _, namespace = tag.group(1).partition(":")
            if formula != "erc7201" or not namespace:
                problems.append(
                    f"{owner or unit}: struct {node['name']} has storage location {tag.group(1)!r}; "
                    "only erc7201:<namespace> is supported"
                )
            elif owner is None:
                problems.append(
                    f"{unit} ({namespace}): struct {node['name']} is declared at file level; declare it "
                    "inside the contract whose storage it is"
                )
            else:
                found.append(_Declared(namespace, unit, owner, str(node["name"])))
    by_namespace: dict[str, list[_Declared]] = {}
    for declared in found:
        by_namespace.setdefault(declared.namespace, []).append(declared)
    unique: list[_Declared] = []
    for namespace, declarations in sorted(by_namespace.items()):
        if len(declarations) > 1:
            where = ", ".join(f"{d.contract}.{d.struct}" for d in declarations)
            problems.append(
                f"{declarations[0].contract} ({namespace}): namespace declared more than once: {where}"
            )
        unique.append(declarations[0])
    return unique, problems


def _probe_source(declared: Sequence[_Declared]) -> str:
    lines = [
        "// SPDX-License-Identifier: UNLICENSED",
        "// Generated by ledger.upgrades.layout to read the compiler's layout of every ERC-7201",
        "// namespace struct (one state variable per struct). Never deployed, never committed.",
        "pragma solidity >=0.8.0;",
        "",
    ]
    lines += [f'import {{{d.contract} as N{i}}} from "{d.unit}";' for i, d in enumerate(declared)]
    lines += ["", f"contract {PROBE_CONTRACT} {{"]
    lines += [f"    N{i}.{d.struct} internal s{i};" for i, d in enumerate(declared)]
    lines += ["}", ""]
    return "\n".join(lines)


def _type_normalizer(types: Mapping[str, Mapping[str, Any]]) -> Callable[[str], str]:
    """Maps solc's type ids to ids without AST ids (`t_struct(Slot)2393_storage` becomes
    `t_struct(ReceivableToken.Slot)_storage`), so snapshots do not change when unrelated code does."""
    names: dict[str, str] = {}
    for type_id, info in types.items():
        match = _NAMED_TYPE.match(type_id)
        if match:
            names.setdefault(match.group(3), str(info.get("label", "")).split(" ", 1)[-1])
    counts = Counter(names.values())

    def normalize(type_id: str) -> str:
        def one(match: re.Match[str]) -> str:
            name = names.get(match.group(3))
            return f"t_{match.group(1)}({name})" if name and counts[name] == 1 else match.group(0)

        return _NAMED_TYPE.sub(one, type_id)

    return normalize


def _member(raw: Mapping[str, Any], normalize: Callable[[str], str]) -> Member:
    return Member(
        label=raw["label"], slot=int(raw["slot"]), offset=int(raw["offset"]), type=normalize(raw["type"])
    )


def _namespace_types(
    root_ids: Sequence[str], types: Mapping[str, Mapping[str, Any]], normalize: Callable[[str], str]
) -> dict[str, TypeInfo]:
    """The types reachable from `root_ids`, keyed and cross-referenced by normalized id."""
    out: dict[str, TypeInfo] = {}
    pending = list(root_ids)
    while pending:
        raw_id = pending.pop()
        key = normalize(raw_id)
        if key in out:
            continue
        raw = types[raw_id]
        info = TypeInfo(
            encoding=raw["encoding"],
            label=raw["label"],
            number_of_bytes=int(raw["numberOfBytes"]),
            members=[_member(m, normalize) for m in raw["members"]] if "members" in raw else None,
            key=normalize(raw["key"]) if "key" in raw else None,
            value=normalize(raw["value"]) if "value" in raw else None,
            base=normalize(raw["base"]) if "base" in raw else None,
        )
        out[key] = info
        pending += [raw[k] for k in ("key", "value", "base") if k in raw]
        pending += [m["type"] for m in raw.get("members", [])]
    return dict(sorted(out.items()))


def _check_slot_constant(
    declared: _Declared, contract_node: Mapping[str, Any], unit_ast: Mapping[str, Any]
) -> list[str]:
    """Rule 6: a bytes32 constant of the contract equals erc7201(namespace) and is used."""
    where = f"{declared.contract} ({declared.namespace})"
    expected = erc7201_slot(declared.namespace)
    all_constants = {
        int(n["id"]): n
        for n in _walk(unit_ast)
        if n.get("nodeType") == "VariableDeclaration" and n.get("constant") and n.get("value")
    }
    candidates = [
        n
        for n in [*contract_node.get("nodes", []), *unit_ast.get("nodes", [])]
        if n.get("nodeType") == "VariableDeclaration"
        and n.get("constant")
        and n.get("typeName", {}).get("name") == "bytes32"
    ]
    values = {
        str(n["name"]): _as_word(_eval_constant(n["value"], all_constants))
        for n in candidates
        if n.get("value")
    }
    matching = [n for n in candidates if values.get(str(n["name"])) == expected]
    formula = f'erc7201("{declared.namespace}") = {_hex32(expected)}'
    if not matching:
        found = ", ".join(
            f"{name} = {_hex32(v) if isinstance(v, int) else '(not evaluable)'}" for name, v in values.items()
        )
        return [
            f"{where}: no bytes32 constant equals {formula}; "
            + (f"found {found}" if found else "the contract declares no bytes32 constant")
        ]
    used: set[int] = set()
    for node in _walk(contract_node):
        if node.get("nodeType") == "Identifier":
            used.add(_ref(node.get("referencedDeclaration")))
        elif node.get("nodeType") == "InlineAssembly":
            used.update(_ref(ref.get("declaration")) for ref in node.get("externalReferences", []))
    if any(int(n["id"]) in used for n in matching):
        return []
    names = ", ".join(str(n["name"]) for n in matching)
    others = [str(n["name"]) for n in candidates if int(n["id"]) in used]
    instead = (
        "; it uses "
        + ", ".join(f"{o} = {_hex32(v) if isinstance(v := values.get(o), int) else '?'}" for o in others)
        if others
        else ""
    )
    return [f"{where}: constant {names} equals {formula} but the contract never uses it{instead}"]


def _contracts_by_id(asts: Mapping[str, Any]) -> dict[int, tuple[str, dict[str, Any]]]:
    """Every contract definition by AST id, with the source unit declaring it."""
    return {
        int(n["id"]): (unit, n)
        for unit, ast in asts.items()
        for n in ast.get("nodes", [])
        if n.get("nodeType") == "ContractDefinition"
    }


def _plain_layouts(
    output: Mapping[str, Any],
    asts: Mapping[str, Any],
    own: Sequence[str],
    declared: Sequence[_Declared],
    project_root: Path,
    sources_dir: Path,
) -> tuple[dict[str, ContractStorage], list[str]]:
    """Rule 7: every contract's plain layout; an upgradeable contract's must be empty."""
    by_id = _contracts_by_id(asts)
    # solc names the most derived contract in every entry; the AST says who declares each variable
    declarer = {
        int(v["id"]): f"{u}:{c['name']}"
        for u, c in by_id.values()
        for v in c.get("nodes", [])
        if v.get("nodeType") == "VariableDeclaration"
    }
    namespaced = {(d.unit, d.contract) for d in declared}
    contracts: dict[str, ContractStorage] = {}
    problems: list[str] = []
    for unit in own:
        for node in asts[unit].get("nodes", []):
            if node.get("nodeType") != "ContractDefinition" or node.get("contractKind") != "contract":
                continue
            name = str(node["name"])
            bases = [by_id[b] for b in node.get("linearizedBaseContracts", []) if b in by_id]
            upgradeable = any(b["name"] in INITIALIZABLE_BASES for _, b in bases) or any(
                (u, b["name"]) in namespaced for u, b in bases
            )
            raw = output.get("contracts", {}).get(unit, {}).get(name, {}).get("storageLayout") or {}
            types = raw.get("types") or {}
            variables = [
                PlainVariable(
                    label=v["label"],
                    slot=int(v["slot"]),
                    offset=int(v["offset"]),
                    type=str(types.get(v["type"], {}).get("label", v["type"])),
                    declared_in=declarer.get(int(v["astId"]), str(v["contract"])),
                )
                for v in raw.get("storage", [])
            ]
            contracts[name] = ContractStorage(source=unit, upgradeable=upgradeable, storage=variables)
            if upgradeable:
                problems += [
                    f"{name}: plain state variable `{v.label}` ({v.type}, slot {v.slot} offset {v.offset}, "
                    f"declared in {v.declared_in}); an upgradeable contract keeps all its state in "
                    + (
                        "ERC-7201 namespace structs"
                        if (project_root / v.declared_in.rsplit(":", 1)[0])
                        .resolve()
                        .is_relative_to(sources_dir)
                        else "ERC-7201 namespace structs, so its parents must be the Upgradeable ones"
                    )
                    for v in variables
                ]
    return dict(sorted(contracts.items())), problems


def _solc(project_root: Path, standard_input: dict[str, Any]) -> dict[str, Any]:
    output = _run_solc(project_root, standard_input)
    errors = [
        str(d.get("formattedMessage") or d.get("message"))
        for d in output.get("errors", [])
        if d.get("severity") == "error"
    ]
    if errors:
        raise CompilationError(errors)
    return output


def _cache_key(sources: Mapping[str, str], own: Sequence[str], settings: Mapping[str, Any], solc: str) -> str:
    """Same sources, settings, compiler and checking code: same extraction."""
    material = {
        "sources": sources,
        "own": own,
        "settings": settings,
        "solc": solc,
        "module": Path(__file__).read_text(encoding="utf-8"),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _read_cache(cache: Path, key: str) -> Extraction | None:
    try:
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if isinstance(cached, dict) and cached.get("key") == key:
            log.info("storage layout cached key=%s", key[:12])
            return Extraction.model_validate(cached["extraction"])
    except (FileNotFoundError, json.JSONDecodeError, ValidationError, KeyError):
        pass
    return None


def _write_cache(cache: Path, key: str, extraction: Extraction) -> None:
    partial = cache.with_name(f"{cache.name}.{os.getpid()}")
    partial.write_text(json.dumps({"key": key, "extraction": extraction.model_dump(by_alias=True)}))
    partial.replace(cache)  # atomic: a concurrent run reads the old cache or the new one, never half


def extract(project_root: Path, sources_dir: Path | None = None, build_dir: Path | None = None) -> Extraction:
    """The current layout of `sources_dir` (default `contracts/`) and the problems it has on its own.

    Two compiler runs (a parse and an analysis without code generation, seconds each); the result is
    cached in `build_dir` under a hash of the sources, the compiler settings and this module.
    """
    project_root = project_root.resolve()
    sources_dir = (sources_dir or project_root / "contracts").resolve()
    build_dir = (build_dir or project_root / DEFAULT_BUILD_DIR).resolve()
    settings = compiler_settings(project_root)
    sources = collect_sources(project_root, sources_dir, settings["remappings"])
    own = [u for u in sources if (project_root / u).resolve().is_relative_to(sources_dir)]
    compiler = _solc_version(project_root)
    cache_key = _cache_key(sources, own, settings, compiler)
    cache = build_dir / "extraction.json"
    cached = _read_cache(cache, cache_key)
    if cached is not None:
        return cached

    base_input: dict[str, Any] = {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sources.items()},
    }
    parsed = _solc(
        project_root,
        {
            **base_input,
            "settings": {
                "remappings": settings["remappings"],
                "stopAfter": "parsing",
                "outputSelection": {unit: {"": ["ast"]} for unit in own},
            },
        },
    )
    declared, problems = _find_namespaces({u: parsed["sources"][u]["ast"] for u in own}, own)

    build_dir.mkdir(parents=True, exist_ok=True)
    probe_path = build_dir / PROBE_FILE
    probe_text = _probe_source(declared)
    probe_path.write_text(probe_text, encoding="utf-8")
    probe_unit = f"tierchain-storage-probe/{PROBE_FILE}"
    selection: dict[str, Any] = {unit: {"": ["ast"]} for unit in sources}
    for unit in own:
        selection[unit] = {"": ["ast"], "*": ["storageLayout"]}
    selection[probe_unit] = {"*": ["storageLayout"]}
    analysis_settings = {k: v for k, v in settings.items() if k != "metadata"}
    output = _solc(
        project_root,
        {
            "language": "Solidity",
            "sources": {**base_input["sources"], probe_unit: {"content": probe_text}},
            "settings": {**analysis_settings, "outputSelection": selection},
        },
    )
    asts = {u: output["sources"][u]["ast"] for u in sources}

    probe = output["contracts"][probe_unit][PROBE_CONTRACT]["storageLayout"]
    raw_types: dict[str, Any] = probe.get("types") or {}
    normalize = _type_normalizer(raw_types)
    by_label = {v["label"]: v for v in probe.get("storage", [])}
    namespaces: dict[str, Namespace] = {}
    for i, d in enumerate(declared):
        struct_type = raw_types[by_label[f"s{i}"]["type"]]
        members = [_member(m, normalize) for m in struct_type["members"]]
        namespaces[d.namespace] = Namespace(
            contract=d.contract,
            source=d.unit,
            struct=str(struct_type["label"]).split(" ", 1)[-1],
            slot=_hex32(erc7201_slot(d.namespace)),
            members=members,
            types=_namespace_types([m["type"] for m in struct_type["members"]], raw_types, normalize),
        )
        contract_node = next(
            n
            for n in asts[d.unit].get("nodes", [])
            if n.get("nodeType") == "ContractDefinition" and n.get("name") == d.contract
        )
        problems += _check_slot_constant(d, contract_node, asts[d.unit])

    contracts, plain_problems = _plain_layouts(output, asts, own, declared, project_root, sources_dir)
    problems += plain_problems
    extraction = Extraction(
        layout=LayoutSnapshot(
            version="unreleased",
            compiler=compiler,
            namespaces=dict(sorted(namespaces.items())),
            contracts=contracts,
        ),
        problems=problems,
    )
    _write_cache(cache, cache_key, extraction)
    return extraction


# --- comparing with the released layout ----------------------------------------------------------


@dataclass
class RenameAllowList:
    """Member renames allowed on purpose: `Struct.old=new`, the struct as `Contract.Struct` or `Struct`."""

    entries: dict[tuple[str, str], str] = field(default_factory=dict)
    used: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def parse(cls, specs: Sequence[str]) -> RenameAllowList:
        entries: dict[tuple[str, str], str] = {}
        for spec in specs:
            match = _RENAME.match(spec.strip())
            if match is None:
                raise LayoutUsageError(
                    f"--allow-rename {spec!r}: expected <Struct>.<old>=<new>, e.g. Token.TokenStorage.a=b"
                )
            entries[(match.group(1), match.group(2))] = match.group(3)
        return cls(entries)

    def target(self, struct: str, old: str) -> str | None:
        for (allowed_struct, allowed_old), new in self.entries.items():
            if allowed_old == old and (struct == allowed_struct or struct.endswith("." + allowed_struct)):
                self.used.add((allowed_struct, allowed_old))
                return new
        return None

    def unused(self) -> list[str]:
        return [f"{s}.{o}={n}" for (s, o), n in self.entries.items() if (s, o) not in self.used]


@dataclass
class Comparison:
    """The outcome of comparing the current layout with the released one."""

    problems: list[str]
    notes: list[str]
    namespaces: int
    appended: int
    new_namespaces: list[str]


def canonical(type_id: str, types: Mapping[str, TypeInfo]) -> str:
    """A description of a type that is equal exactly when the storage layouts are (names of types aside)."""
    info = types[type_id]
    if info.members is not None:
        inner = "; ".join(f"{m.label}@{m.slot}+{m.offset}: {canonical(m.type, types)}" for m in info.members)
        return f"struct[{info.number_of_bytes}]{{{inner}}}"
    if info.encoding == "mapping" and info.key and info.value:
        return f"mapping({canonical(info.key, types)} => {canonical(info.value, types)})"
    if info.base is not None:
        length = _STATIC_LENGTH.search(info.label)
        size = (
            ""
            if info.encoding == "dynamic_array"
            else length.group(1)
            if length
            else f"#{info.number_of_bytes}"
        )
        return f"{canonical(info.base, types)}[{size}]"
    return f"{info.label}:{info.encoding}:{info.number_of_bytes}"


@dataclass
class _Side:
    types: Mapping[str, TypeInfo]

    def label(self, type_id: str) -> str:
        return self.types[type_id].label

    def size(self, member: Member) -> int:
        return self.types[member.type].number_of_bytes


def _diff_type(
    old_id: str, old: _Side, new_id: str, new: _Side, subject: str, renames: RenameAllowList
) -> list[str]:
    """Why two types are not the same layout, as precisely as possible; [] when they are (up to
    allowed renames of nested members)."""
    if canonical(old_id, old.types) == canonical(new_id, new.types):
        return []
    o, n = old.types[old_id], new.types[new_id]
    if o.members is not None and n.members is not None:
        struct = o.label.split(" ", 1)[-1]
        where = f"{subject} ({o.label})"
        return _diff_members(o.members, old, n.members, new, where, struct, renames, nested=True)
    same_key = (
        o.key is not None and n.key is not None and canonical(o.key, old.types) == canonical(n.key, new.types)
    )
    if o.encoding == n.encoding == "mapping" and same_key and o.value and n.value:
        return _diff_type(o.value, old, n.value, new, f"{subject} → mapping value", renames)
    same_length = o.encoding == "dynamic_array" or o.label.rsplit("[", 1)[-1] == n.label.rsplit("[", 1)[-1]
    if o.encoding == n.encoding and o.base and n.base and same_length:
        return _diff_type(o.base, old, n.base, new, f"{subject} → array element", renames)
    return [f"{subject}: type changed from {o.label} to {n.label}"]


def _diff_members(
    old_members: Sequence[Member],
    old: _Side,
    new_members: Sequence[Member],
    new: _Side,
    where: str,
    struct: str,
    renames: RenameAllowList,
    *,
    nested: bool,
) -> list[str]:
    """Rules 2 to 4 for one struct; `nested` structs may not grow either."""
    problems: list[str] = []
    new_index = {m.label: i for i, m in enumerate(new_members)}
    old_labels = {m.label for m in old_members}
    matched: dict[int, Member] = {}
    for o in old_members:
        i = new_index.get(renames.target(struct, o.label) or o.label)
        if i is not None and i not in matched:
            n = new_members[i]
            matched[i] = o
            if (n.slot, n.offset) != (o.slot, o.offset):
                problems.append(
                    f"{where}: member `{o.label}` moved from slot {o.slot} offset {o.offset} to slot "
                    f"{n.slot} offset {n.offset}; released members must keep their place"
                )
            problems += _diff_type(o.type, old, n.type, new, f"{where}: member `{o.label}`", renames)
            continue
        renamed = next(
            (
                j
                for j, n in enumerate(new_members)
                if (n.slot, n.offset) == (o.slot, o.offset) and n.label not in old_labels and j not in matched
            ),
            None,
        )
        if renamed is not None:
            n = new_members[renamed]
            matched[renamed] = o
            problems.append(
                f"{where}: member `{o.label}` renamed to `{n.label}`; if intended, allow it with "
                f"--allow-rename {struct}.{o.label}={n.label}"
            )
            problems += _diff_type(
                o.type, old, n.type, new, f"{where}: member `{o.label}` (now `{n.label}`)", renames
            )
            continue
        problems.append(
            f"{where}: released member `{o.label}` ({old.label(o.type)}, slot {o.slot} offset {o.offset}) "
            "was removed"
        )
    last_released = max(matched, default=-1)
    for i, n in enumerate(new_members):
        if i in matched:
            continue
        place = f"slot {n.slot} offset {n.offset}"
        if nested:
            problems.append(
                f"{where}: member `{n.label}` ({new.label(n.type)}) added at {place}; a nested struct must "
                "keep its released layout (append new state to the namespace struct instead)"
            )
            continue
        if i < last_released:
            following = new_members[min(j for j in matched if j > i)].label
            problems.append(
                f"{where}: member `{n.label}` ({new.label(n.type)}) inserted at {place}, before released "
                f"member `{following}`; new members may only be appended after the last released member "
                f"`{new_members[last_released].label}`"
            )
            continue
        start, end = n.slot * 32 + n.offset, n.slot * 32 + n.offset + new.size(n)
        for o in old_members:
            o_start = o.slot * 32 + o.offset
            if start < o_start + old.size(o) and o_start < end:
                problems.append(
                    f"{where}: appended member `{n.label}` ({place}, {new.size(n)} bytes) overlaps released "
                    f"member `{o.label}` (slot {o.slot} offset {o.offset}, {old.size(o)} bytes)"
                )
    return problems


def compare(
    released: LayoutSnapshot, current: LayoutSnapshot, allow_renames: Sequence[str] = ()
) -> Comparison:
    """Rules 1 to 5: is `current` a storage-compatible successor of `released`?"""
    renames = RenameAllowList.parse(allow_renames)
    problems: list[str] = []
    appended = 0
    for name, before in sorted(released.namespaces.items()):
        after = current.namespaces.get(name)
        where = f"{before.contract} ({name})"
        if after is None:
            problems.append(
                f"{where}: released namespace is gone (no struct is annotated "
                f"@custom:storage-location erc7201:{name}); its state would be orphaned"
            )
            continue
        old, new = _Side(before.types), _Side(after.types)
        problems += _diff_members(
            before.members,
            old,
            after.members,
            new,
            f"{after.contract} ({name})",
            after.struct,
            renames,
            nested=False,
        )
        appended += max(0, len(after.members) - len(before.members))
    notes = [f"--allow-rename {entry} matched no member; remove it" for entry in renames.unused()]
    new_namespaces = sorted(set(current.namespaces) - set(released.namespaces))
    return Comparison(problems, notes, len(released.namespaces), appended, new_namespaces)


# --- files and command line ----------------------------------------------------------------------


def load_snapshot(path: Path) -> LayoutSnapshot:
    """The released layout at `path`; `LayoutError` naming the file if it is missing or malformed."""
    try:
        return LayoutSnapshot.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise LayoutError(
            f"{path}: no released storage layout; write one with "
            "`python -m ledger.upgrades.layout snapshot --version X` when a version is released"
        ) from exc
    except ValidationError as exc:
        raise LayoutError(f"{path}: not a storage-layout snapshot: {exc}") from exc


def write_snapshot(extraction: Extraction, version: str, path: Path) -> LayoutSnapshot:
    """Writes the current layout as release `version`; refuses a layout with problems of its own."""
    if extraction.problems:
        raise LayoutError(
            "the current layout has problems; no snapshot written:\n" + "\n".join(extraction.problems)
        )
    snapshot = extraction.layout.model_copy(update={"version": version})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(snapshot.to_json(), encoding="utf-8")
    return snapshot


def _version_tuple(version: str) -> tuple[int, int, int] | None:
    match = _VERSION.match(version)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None


def _display(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ledger.upgrades.layout",
        description="Storage-layout compatibility of the ERC-7201 namespaces with the last released layout.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="compare the current layout with the released snapshot")
    snapshot = commands.add_parser("snapshot", help="write the current layout as a released version")
    snapshot.add_argument("--version", required=True, help="the released version, e.g. 1.0.0")
    for sub in (check, snapshot):
        sub.add_argument(
            "--root", type=Path, default=PROJECT_ROOT, help="project root (foundry.toml, scripts/solc)"
        )
        sub.add_argument("--contracts", type=Path, help="Solidity sources (default: <root>/contracts)")
        sub.add_argument("--snapshot", type=Path, help=f"snapshot file (default: <root>/{DEFAULT_SNAPSHOT})")
        sub.add_argument(
            "--build-dir", type=Path, help=f"probe and cache (default: <root>/{DEFAULT_BUILD_DIR})"
        )
        sub.add_argument(
            "--allow-rename",
            action="append",
            default=[],
            metavar="STRUCT.OLD=NEW",
            help="accept one member rename on purpose (repeatable)",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: 0 when compatible (or snapshot written), 1 with the problems listed, 2 on misuse."""
    args = _parser().parse_args(argv)
    root: Path = args.root.resolve()
    snapshot_path: Path = (args.snapshot or root / DEFAULT_SNAPSHOT).resolve()
    shown = _display(snapshot_path, root)
    try:
        RenameAllowList.parse(args.allow_rename)
        if args.command == "snapshot" and _version_tuple(args.version) is None:
            raise LayoutUsageError(f"--version {args.version!r}: expected MAJOR.MINOR.PATCH, e.g. 1.0.0")
        extraction = extract(root, args.contracts, args.build_dir)
        if args.command == "snapshot":
            return _snapshot(extraction, args.version, snapshot_path, shown, args.allow_rename)
        released = load_snapshot(snapshot_path)
    except (LayoutError, CompilationError) as exc:
        print(f"storage layout: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, LayoutUsageError) else 1
    result = compare(released, extraction.layout, args.allow_rename)
    for note in result.notes:
        print(f"storage layout: note: {note}", file=sys.stderr)
    problems = extraction.problems + result.problems
    if problems:
        print(f"storage layout: {len(problems)} problem(s) against released {released.version} ({shown}):")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    fresh = f", new: {', '.join(result.new_namespaces)}" if result.new_namespaces else ""
    print(
        f"storage layout OK: {result.namespaces} namespace(s) compatible with released {released.version} "
        f"({shown}); {result.appended} member(s) appended{fresh}"
    )
    return 0


def _snapshot(
    extraction: Extraction, version: str, path: Path, shown: str, allow_renames: Sequence[str]
) -> int:
    if path.is_file():
        previous = load_snapshot(path)
        old, new = _version_tuple(previous.version), _version_tuple(version)
        if old is not None and new is not None and new < old:
            raise LayoutUsageError(
                f"--version {version} is older than the released {previous.version} in {shown}"
            )
        if new is not None and new == old:
            # the same version again: its layout is replaced (before it was deployed), not succeeded
            log.info("storage layout %s replaced in %s", version, shown)
            snapshot = write_snapshot(extraction, version, path)
            print(f"storage layout {version} replaced in {shown}: {len(snapshot.namespaces)} namespace(s)")
            return 0
        result = compare(previous, extraction.layout, allow_renames)
        if result.problems or extraction.problems:
            print(
                f"storage layout: not compatible with released {previous.version} ({shown}); "
                "no snapshot written:"
            )
            for problem in extraction.problems + result.problems:
                print(f"  - {problem}")
            return 1
    snapshot = write_snapshot(extraction, version, path)
    print(f"storage layout {version} written to {shown}: {len(snapshot.namespaces)} namespace(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
