"""Compile the Solidity sources to JSON artifacts that the Python side deploys and decodes from.

We build solc's standard-JSON input ourselves, with every imported file inlined, so that the sha256
of that input is an exact cache key: same sources, same imports, same settings means the artifacts
on disk are still right and the (slow, solc-js) compiler is not run. Settings are read from
foundry.toml so Python and forge always produce the same bytecode.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import posixpath
import re
import subprocess
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ledger.errors import ArtifactNotFound, CompilationError

log = logging.getLogger(__name__)

OUTPUT_SELECTION = [
    "abi",
    "evm.bytecode.object",
    "evm.deployedBytecode.object",
    "evm.methodIdentifiers",
    "metadata",
]
# Contracts of imported libraries that the deployment needs as artifacts of their own (every other
# imported contract is compiled only as part of ours). contracts/proxy/Proxy.sol imports this one.
LIBRARY_ARTIFACTS = {"@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol": "ERC1967Proxy"}
# A contract whose address also answers for other contracts' functions: the receivable token delegates
# every selector it does not declare to its extension (a `delegatecall` from its fallback), so the ABI
# callers use for "ReceivableToken" is the token's merged with the extension's. The first contract's
# constructor (and fallback) is kept; entries of the same signature appear once.
MERGED_ABIS: dict[str, tuple[str, ...]] = {"ReceivableToken": ("ReceivableTokenExtension",)}
# Events of the same name with other inputs (overloads) reach Python under their own names: the token's
# ERC-7943 events overload Tierchain's own `Frozen` and `ForcedTransfer`. Keyed by signature.
EVENT_ALIASES: dict[str, str] = {
    "Frozen(address,uint256,uint256)": "ERC7943Frozen",
    "ForcedTransfer(address,address,uint256,uint256)": "ERC7943ForcedTransfer",
}
_STRING_OR_COMMENT = re.compile(r'("(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\')|(//[^\n]*|/\*.*?\*/)', re.S)
_IMPORT = re.compile(r'\bimport\s+(?:[^;"\']*?\s+from\s+)?["\']([^"\']+)["\'][^;]*;')


class Artifact(BaseModel):
    """One compiled contract as stored in `build/artifacts/<ContractName>.json`."""

    contractName: str
    sourceName: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployedBytecode: str
    methodIdentifiers: dict[str, str]
    sourceHash: str
    compilerVersion: str

    @property
    def deployable(self) -> bool:
        """Interfaces and abstract contracts have no bytecode; only their ABIs are useful."""
        return len(self.bytecode) > 2


class CompileResult(BaseModel):
    artifacts: dict[str, Artifact]
    source_hash: str
    cached: bool


def compiler_settings(project_root: Path) -> dict[str, Any]:
    """solc settings equal to foundry.toml's default profile (defaults match ours if it is absent)."""
    profile: dict[str, Any] = {}
    foundry = project_root / "foundry.toml"
    if foundry.is_file():
        profile = tomllib.loads(foundry.read_text(encoding="utf-8")).get("profile", {}).get("default", {})
    return {
        "optimizer": {
            "enabled": bool(profile.get("optimizer", True)),
            "runs": int(profile.get("optimizer_runs", 200)),
        },
        "evmVersion": str(profile.get("evm_version", "prague")),
        "metadata": {"bytecodeHash": str(profile.get("bytecode_hash", "none"))},
        "remappings": list(profile.get("remappings", [])),
    }


def _strip_comments(text: str) -> str:
    return _STRING_OR_COMMENT.sub(lambda m: m.group(1) or " ", text)


def _resolve_import(importer: str, path: str, remappings: list[str]) -> str:
    """Map an import to solc's source unit name: relative to the importer, else through remappings."""
    if path.startswith(("./", "../")):
        return posixpath.normpath(posixpath.join(posixpath.dirname(importer), path))
    best = ""
    target = ""
    for remap in remappings:
        prefix, _, replacement = remap.partition("=")
        prefix = prefix.split(":")[-1]  # drop an optional "context:" part
        if path.startswith(prefix) and len(prefix) > len(best):
            best, target = prefix, replacement
    return target + path[len(best) :] if best else path


def _unit_name(project_root: Path, path: Path) -> str:
    """Project-relative like forge ("contracts/X.sol"); absolute for sources outside the project."""
    path = path.resolve()
    return path.relative_to(project_root).as_posix() if path.is_relative_to(project_root) else path.as_posix()


def collect_sources(project_root: Path, sources_dir: Path, remappings: list[str]) -> dict[str, str]:
    """All `.sol` files under `sources_dir` plus everything they import, keyed by source unit name."""
    roots = [project_root, project_root / "node_modules"]
    pending = [_unit_name(project_root, p) for p in sorted(sources_dir.rglob("*.sol"))]
    sources: dict[str, str] = {}
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        file = next((r / unit for r in roots if (r / unit).is_file()), None)
        if file is None:
            raise CompilationError([f"source not found: {unit} (looked in {', '.join(map(str, roots))})"])
        text = file.read_text(encoding="utf-8")
        sources[unit] = text
        for imported in _IMPORT.findall(_strip_comments(text)):
            pending.append(_resolve_import(unit, imported, remappings))
    return dict(sorted(sources.items()))


def _solc_version(project_root: Path) -> str:
    package = project_root / "node_modules" / "solc" / "package.json"
    return str(json.loads(package.read_text())["version"]) if package.is_file() else "unknown"


def _run_solc(project_root: Path, standard_input: dict[str, Any]) -> dict[str, Any]:
    """Run scripts/solc in standard-JSON mode; separate so tests can check it is not called."""
    cmd = [
        "node",
        str(project_root / "scripts" / "solc"),
        "--base-path",
        str(project_root),
        "--include-path",
        str(project_root / "node_modules"),
        "--standard-json",
    ]
    log.info("solc start sources=%d", len(standard_input["sources"]))
    proc = subprocess.run(
        cmd, input=json.dumps(standard_input), capture_output=True, text=True, cwd=project_root, timeout=900
    )
    if proc.returncode != 0:
        raise CompilationError([f"solc exited with {proc.returncode}: {proc.stderr.strip()}"])
    try:
        output: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise CompilationError([f"solc printed invalid JSON: {proc.stdout[:500]}"]) from exc
    return output


def _read_index(artifacts_dir: Path) -> dict[str, Any] | None:
    index = artifacts_dir / "index.json"
    try:
        data: dict[str, Any] = json.loads(index.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data


def compile_contracts(
    project_root: Path, build_dir: Path, sources_dir: Path | None = None, *, force: bool = False
) -> CompileResult:
    """Compile `sources_dir` (default `contracts/`) into `build_dir/artifacts`, unless cached."""
    project_root = project_root.resolve()
    sources_dir = (sources_dir or project_root / "contracts").resolve()
    artifacts_dir = build_dir / "artifacts"
    settings = compiler_settings(project_root)
    sources = collect_sources(project_root, sources_dir, settings["remappings"])
    own = [u for u in sources if (project_root / u).resolve().is_relative_to(sources_dir)]  # abs stays abs
    settings["outputSelection"] = {unit: {"*": OUTPUT_SELECTION} for unit in own}
    for library_unit, contract in LIBRARY_ARTIFACTS.items():
        unit = _resolve_import("", library_unit, settings["remappings"])
        if unit in sources and own:
            settings["outputSelection"][unit] = {contract: OUTPUT_SELECTION}
    standard_input = {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sources.items()},
        "settings": settings,
    }
    canonical = json.dumps({"input": standard_input, "solc": _solc_version(project_root)}, sort_keys=True)
    source_hash = hashlib.sha256(canonical.encode()).hexdigest()

    # One compile per build directory at a time: a second process (another worker, a second command) waits
    # and then finds the cache warm, instead of deleting artifacts the first is writing or reading.
    with _build_lock(build_dir):
        return _compile_locked(
            project_root, artifacts_dir, build_dir, standard_input, source_hash, own, force=force
        )


@contextmanager
def _build_lock(build_dir: Path) -> Iterator[None]:
    build_dir.mkdir(parents=True, exist_ok=True)
    with (build_dir / ".compile.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _compile_locked(
    project_root: Path,
    artifacts_dir: Path,
    build_dir: Path,
    standard_input: dict[str, Any],
    source_hash: str,
    own: list[str],
    *,
    force: bool,
) -> CompileResult:
    index = _read_index(artifacts_dir)
    if not force and index is not None and index.get("sourceHash") == source_hash:
        names = list(index.get("contracts", {}))
        if all((artifacts_dir / f"{n}.json").is_file() for n in names):
            log.info("compile cached source_hash=%s contracts=%d", source_hash[:12], len(names))
            return CompileResult(
                artifacts={n: load_artifact(build_dir, n) for n in names},
                source_hash=source_hash,
                cached=True,
            )

    output = _run_solc(project_root, standard_input) if own else {"contracts": {}}
    errors = []
    for diag in output.get("errors", []):
        text = str(diag.get("formattedMessage") or diag.get("message"))
        if diag.get("severity") == "error":
            errors.append(text)
        else:
            log.warning("solc %s: %s", diag.get("severity"), text.strip())
    if errors:
        raise CompilationError(errors)

    artifacts: dict[str, Artifact] = {}
    for unit, contracts in sorted(output.get("contracts", {}).items()):
        for name, out in sorted(contracts.items()):
            if name in artifacts:
                raise CompilationError(
                    [f"contract name {name} is declared in {artifacts[name].sourceName} and {unit}"]
                )
            metadata = json.loads(out.get("metadata") or "{}")
            evm = out.get("evm", {})
            artifacts[name] = Artifact(
                contractName=name,
                sourceName=unit,
                abi=out.get("abi", []),
                bytecode="0x" + evm.get("bytecode", {}).get("object", ""),
                deployedBytecode="0x" + evm.get("deployedBytecode", {}).get("object", ""),
                methodIdentifiers=evm.get("methodIdentifiers", {}),
                sourceHash=source_hash,
                compilerVersion=str(metadata.get("compiler", {}).get("version", "unknown")),
            )
    _merge_abis(artifacts)
    _write_artifacts(artifacts_dir, artifacts, source_hash)
    log.info("compile done source_hash=%s contracts=%d", source_hash[:12], len(artifacts))
    return CompileResult(artifacts=artifacts, source_hash=source_hash, cached=False)


def abi_signature(entry: dict[str, Any]) -> str:
    """The identity of an ABI entry: its kind, name and input types (`event Frozen(uint256,address,uint32)`).

    Overloaded functions and events (the same name, other inputs) are different entries.
    """
    kind = str(entry.get("type", "function"))
    if kind in ("constructor", "fallback", "receive"):
        return kind
    return f"{kind} {entry.get('name', '')}({','.join(_abi_type(i) for i in entry.get('inputs', []))})"


def _abi_type(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in param.get("components", [])) + ")" + kind[len("tuple") :]
    return kind


def merge_abi(primary: list[dict[str, Any]], *others: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`primary` followed by the entries of `others` it lacks (by `abi_signature`); constructors,
    fallbacks and receive functions come from `primary` only."""
    merged = list(primary)
    seen = {abi_signature(e) for e in primary}
    for abi in others:
        for entry in abi:
            sig = abi_signature(entry)
            if sig in seen or sig in ("constructor", "fallback", "receive"):
                continue
            seen.add(sig)
            merged.append(entry)
    return merged


def _merge_abis(artifacts: dict[str, Artifact]) -> None:
    """Give each contract of `MERGED_ABIS` the functions, events and errors of those it delegates to."""
    for name, parts in MERGED_ABIS.items():
        main = artifacts.get(name)
        found = [artifacts[p] for p in parts if p in artifacts]
        if main is None or not found:
            continue
        identifiers = dict(main.methodIdentifiers)
        for part in found:
            for sig, selector in part.methodIdentifiers.items():
                identifiers.setdefault(sig, selector)
        artifacts[name] = main.model_copy(
            update={"abi": merge_abi(main.abi, *(p.abi for p in found)), "methodIdentifiers": identifiers}
        )


def _write_artifacts(artifacts_dir: Path, artifacts: dict[str, Artifact], source_hash: str) -> None:
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    for stale in artifacts_dir.glob("*.json"):
        stale.unlink()
    for name, art in artifacts.items():
        (artifacts_dir / f"{name}.json").write_text(art.model_dump_json(indent=2))
    index = {
        "sourceHash": source_hash,
        "contracts": {
            n: {"sourceName": a.sourceName, "deployable": a.deployable, "compilerVersion": a.compilerVersion}
            for n, a in artifacts.items()
        },
    }
    # The index is written last: a crash mid-write leaves no index, hence no false cache hit.
    (artifacts_dir / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True))


def load_artifact(build_dir: Path, name: str) -> Artifact:
    """The artifact of contract `name`; raises `ArtifactNotFound` if it was never compiled."""
    path = build_dir / "artifacts" / f"{name}.json"
    try:
        return Artifact.model_validate_json(path.read_text())
    except FileNotFoundError as exc:
        raise ArtifactNotFound(f"{path}: no artifact for contract {name!r}; run `tierchain compile`") from exc


def load_abis(build_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Every artifact's ABI by contract name, interfaces included; feeds `ErrorDecoder.from_artifacts`."""
    index = _read_index(build_dir / "artifacts") or {}
    return {name: load_artifact(build_dir, name).abi for name in index.get("contracts", {})}
