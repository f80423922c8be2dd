"""Run a local anvil chain for development and tests, from the project's own node_modules.

This is the only module (besides tests) allowed to use anvil-only RPC methods (snapshots, time
travel, manual mining): everything else speaks plain Ethereum JSON-RPC so it also runs on Besu or a
public testnet. The chain's state is kept in a file so a restart keeps balances and blocks, and a
run file (pid + URL) lets `tierchain chain down` stop a chain that `chain up` started elsewhere.

A profile whose `[anvil]` table sets `fault_proxies` (chain_config/local-consortium.toml) runs anvil on a
free port and one `ledger.faultproxy` process per configured RPC URL in front of it: the client sees
several nodes of one network, each of which the fault tests can break on its own. The run file
records the proxies too, so `chain down` stops them with the chain.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlparse

import httpx
from pydantic import BaseModel

from ledger.config import AnvilConfig, NetworkConfig
from ledger.errors import ChainUnavailable, ConfigError, LocalOnly

log = logging.getLogger(__name__)

_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class TimeAdvance(BaseModel):
    """A move of the local chain's clock: block timestamps before and after, and the block mined."""

    before: int
    after: int
    seconds: int
    block: int


class ProxyRecord(BaseModel):
    """One fault proxy in front of the chain: its process, its JSON-RPC URL and its admin URL."""

    pid: int
    url: str
    admin_url: str


class RunInfo(BaseModel):
    """What `chain up` leaves behind for other processes: who to signal and where to connect."""

    pid: int
    url: str
    state_file: str
    log_file: str
    proxies: list[ProxyRecord] = []

    @property
    def rpc_urls(self) -> list[str]:
        """Where clients connect: the proxies when there are some, else the node itself."""
        return [p.url for p in self.proxies] or [self.url]


def anvil_binary(project_root: Path) -> Path:
    """The native anvil binary; we skip the node wrapper so our signals reach anvil itself."""
    system = platform.system().lower()
    arch = _ARCH.get(platform.machine().lower(), platform.machine().lower())
    native = project_root / "node_modules" / "@foundry-rs" / f"anvil-{system}-{arch}" / "bin" / "anvil"
    if native.is_file():
        return native
    wrapper = project_root / "node_modules" / ".bin" / "anvil"
    if wrapper.exists():
        return wrapper
    raise ConfigError(f"{native}: anvil not found; run `npm install` in {project_root}")


def anvil_state_file(config: AnvilConfig, project_root: Path, data_dir: Path, name: str = "local") -> Path:
    """Where anvil keeps the chain: the configured file (relative to the project), else the data dir
    (`<data_dir>/<network name>/anvil-state.json`)."""
    if config.state_file is None:
        return data_dir / name / "anvil-state.json"
    return config.state_file if config.state_file.is_absolute() else project_root / config.state_file


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); /proc tells us it has in fact exited.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    return True


def _is_anvil(pid: int, marker: bytes = b"anvil") -> bool:
    """Guard against a recycled pid: only signal a process that is really anvil (or `marker`)."""
    try:
        return marker in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return _alive(pid)


PROXY_MODULE = "ledger.faultproxy"


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM (anvil dumps its state on the way out), then SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        log.warning("anvil ignored SIGTERM, killing pid=%d", pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class LocalChain:
    """One anvil process on a loopback port; a context manager that always cleans up."""

    def __init__(
        self,
        config: AnvilConfig,
        project_root: Path,
        data_dir: Path,
        *,
        port: int | None = None,
        detach: bool = False,
        startup_timeout: float = 30.0,
        block_gas_limit: int | None = None,
        name: str = "local",
        proxy_urls: list[str] | None = None,
    ) -> None:
        self.config = config
        self.project_root = project_root
        self.data_dir = data_dir
        self.name = name
        self.run_dir = data_dir / name
        self.state_file = anvil_state_file(config, project_root, data_dir, name)
        self.log_file = self.run_dir / "anvil.log"
        self.run_file = self.run_dir / "anvil.json"
        self.host = "127.0.0.1"
        self.port = port
        self.detach = detach
        self.startup_timeout = startup_timeout
        # A consortium chain (Besu QBFT) sets its own block gas limit in genesis; benchmarks that
        # seal blocks on a timer need the same freedom, or anvil's 30M default caps a block's work.
        self.block_gas_limit = block_gas_limit
        # One fault proxy per URL (its port; 0 picks a free one), started once anvil answers.
        self.proxy_urls = list(proxy_urls or [])
        self.proxies: list[ProxyRecord] = []
        self._proxy_procs: list[subprocess.Popen[bytes]] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._client: httpx.Client | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise ChainUnavailable("local chain is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def rpc_urls(self) -> list[str]:
        """Where clients connect: the fault proxies when there are some, else anvil itself."""
        return [p.url for p in self.proxies] or [self.url]

    def command(self) -> list[str]:
        cfg = self.config
        cmd = [
            str(anvil_binary(self.project_root)),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--chain-id",
            str(cfg.chain_id),
            "--mnemonic",
            cfg.mnemonic,
            "--accounts",
            str(cfg.accounts),
            "--balance",
            str(cfg.balance_eth),
            "--hardfork",
            cfg.hardfork,
            "--state",
            str(self.state_file),
            "--state-interval",
            str(cfg.state_interval_seconds),
        ]
        if cfg.block_time_seconds is not None:
            cmd += ["--block-time", str(cfg.block_time_seconds)]
        if self.block_gas_limit is not None:
            cmd += ["--gas-limit", str(self.block_gas_limit)]
        if cfg.gas_price_wei is not None:
            cmd += ["--gas-price", str(cfg.gas_price_wei)]
        if cfg.base_fee_wei is not None:
            cmd += ["--base-fee", str(cfg.base_fee_wei)]
        if cfg.gas_price_wei == 0:
            # A free-gas chain (Besu QBFT with min-gas-price 0) accepts a zero tip too.
            cmd += ["--disable-min-priority-fee"]
        return cmd

    def start(self) -> LocalChain:
        if self._proc is not None:
            return self
        existing = read_run_info(self.data_dir, self.name)
        if existing is not None and existing.state_file == str(self.state_file):
            raise ChainUnavailable(f"an anvil using {self.state_file} already runs (pid {existing.pid})")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        if self.port is None:
            self.port = free_port(self.host)
        with self.log_file.open("ab") as log_out:
            self._proc = subprocess.Popen(
                self.command(),
                stdout=log_out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=self.detach,
            )
        log.info("anvil starting pid=%d url=%s state=%s", self._proc.pid, self.url, self.state_file)
        try:
            self._wait_ready()
            for url in self.proxy_urls:
                self._start_proxy(url)
        except BaseException:
            self.stop()
            raise
        info = RunInfo(
            pid=self._proc.pid,
            url=self.url,
            state_file=str(self.state_file),
            log_file=str(self.log_file),
            proxies=self.proxies,
        )
        self.run_file.write_text(info.model_dump_json())
        return self

    def _start_proxy(self, url: str) -> ProxyRecord:
        """One `ledger.faultproxy` process listening where `url` says, in front of this anvil."""
        parsed = urlparse(url)
        listen = f"{parsed.hostname or self.host}:{parsed.port or 0}"
        index = len(self.proxies)
        log_path = self.run_dir / f"proxy-{index}.log"
        with log_path.open("ab") as log_out:
            proc = subprocess.Popen(
                [sys.executable, "-m", PROXY_MODULE, "--listen", listen, "--upstream", self.url],
                stdout=subprocess.PIPE,
                stderr=log_out,
                stdin=subprocess.DEVNULL,
                start_new_session=self.detach,
                cwd=self.project_root,
                env={
                    **os.environ,
                    "PYTHONPATH": os.pathsep.join(
                        filter(None, [str(self.project_root), os.environ.get("PYTHONPATH")])
                    ),
                },
            )
        self._proxy_procs.append(proc)
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], self.startup_timeout)
        line = proc.stdout.readline().decode().split() if ready else []
        proc.stdout.close()
        if len(line) != 3 or line[0] != "ready":
            tail = log_path.read_text(errors="replace")[-2000:]
            raise ChainUnavailable(f"fault proxy for {url} did not start ({proc.poll()}): {tail}")
        record = ProxyRecord(pid=proc.pid, url=line[1], admin_url=line[2])
        self.proxies.append(record)
        log.info("fault proxy up pid=%d url=%s admin=%s", proc.pid, record.url, record.admin_url)
        return record

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.02
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = self.log_file.read_text(errors="replace")[-2000:]
                raise ChainUnavailable(f"anvil exited with {self._proc.returncode}: {tail}")
            try:
                chain_id = int(self.rpc("eth_chainId"), 16)
            except (httpx.HTTPError, ChainUnavailable):
                time.sleep(delay)
                delay = min(delay * 2, 0.25)
                continue
            log.info("anvil ready url=%s chain_id=%d", self.url, chain_id)
            return
        raise ChainUnavailable(f"anvil did not answer on {self.url} within {self.startup_timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        for proc in self._proxy_procs:
            _terminate(proc.pid, timeout)
            proc.wait(timeout=timeout)
        self._proxy_procs.clear()
        self.proxies = []
        if self._proc is None:
            return
        _terminate(self._proc.pid, timeout)
        self._proc.wait(timeout=timeout)
        log.info("anvil stopped pid=%d code=%s", self._proc.pid, self._proc.returncode)
        self._proc = None
        self.run_file.unlink(missing_ok=True)

    def __enter__(self) -> LocalChain:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- anvil-only helpers, for tests and the demo -------------------------------------------

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        if self._client is None:
            self._client = httpx.Client(timeout=10.0)
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
        reply = self._client.post(self.url, json=body).json()
        if "error" in reply:
            raise ChainUnavailable(f"{method} failed: {reply['error']}")
        return reply["result"]

    def snapshot(self) -> str:
        return str(self.rpc("evm_snapshot"))

    def revert(self, snapshot_id: str) -> bool:
        """Roll back to `snapshot_id`; anvil forgets that snapshot, so take a new one to reuse it."""
        return bool(self.rpc("evm_revert", [snapshot_id]))

    def increase_time(self, seconds: int) -> None:
        self.rpc("evm_increaseTime", [seconds])

    def mine(self, blocks: int = 1) -> None:
        self.rpc("anvil_mine", [hex(blocks)])

    def pause_mining(self) -> None:
        """No block at all until `set_mining` is called again (interval 0 turns automine off too): how a
        fault run holds the chain still while it swaps a branch."""
        self.rpc("evm_setIntervalMining", [0])

    def set_mining(self, interval_seconds: float | None) -> None:
        """Mine a block per transaction (None), or one every `interval_seconds` whether or not there is
        work (how a QBFT network seals blocks). Tests set a chain up on automine, then measure it on
        timed blocks."""
        if interval_seconds is None:
            self.rpc("evm_setIntervalMining", [0])  # 0 also turns automine off: set it after
            self.rpc("evm_setAutomine", [True])
        else:
            self.rpc("evm_setAutomine", [False])
            whole = float(interval_seconds).is_integer()
            self.rpc("evm_setIntervalMining", [int(interval_seconds) if whole else interval_seconds])


def read_run_info(data_dir: Path, name: str = "local") -> RunInfo | None:
    """The chain of network `name` recorded by `chain up`, or None if there is none or it has died."""
    run_file = data_dir / name / "anvil.json"
    try:
        info = RunInfo.model_validate_json(run_file.read_text())
    except (FileNotFoundError, ValueError):
        return None
    if not (_alive(info.pid) and _is_anvil(info.pid)):
        _stop_proxies(info.proxies, 10.0)  # in front of a dead node they serve nothing
        run_file.unlink(missing_ok=True)
        return None
    return info


def rpc_urls(network: NetworkConfig, data_dir: Path) -> list[str]:
    """Where to reach `network`: on the local network, the chain `chain up` recorded (it runs on a free
    port, not the configured one); elsewhere, or with no recorded chain, the configured URLs."""
    if network.is_local and (info := read_run_info(data_dir, network.name)) is not None:
        return info.rpc_urls
    return list(network.rpc_urls)


def _stop_proxies(proxies: list[ProxyRecord], timeout: float) -> None:
    for proxy in proxies:
        if _alive(proxy.pid) and _is_anvil(proxy.pid, PROXY_MODULE.encode()):
            _terminate(proxy.pid, timeout)


def stop_recorded(data_dir: Path, timeout: float = 10.0, name: str = "local") -> RunInfo | None:
    """Stop the chain (and its fault proxies) another process started with `chain up`; returns what was
    stopped."""
    info = read_run_info(data_dir, name)
    if info is None:
        return None
    _stop_proxies(info.proxies, timeout)
    _terminate(info.pid, timeout)
    (data_dir / name / "anvil.json").unlink(missing_ok=True)
    log.info("anvil stopped pid=%d url=%s", info.pid, info.url)
    return info


def _rpc_call(client: httpx.Client, url: str, method: str, params: list[Any]) -> Any:
    try:
        reply = client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).json()
    except httpx.HTTPError as exc:
        raise ChainUnavailable(f"{url}: {method}: {exc}") from exc
    if "error" in reply:
        raise ChainUnavailable(f"{url}: {method} failed: {reply['error']}")
    return reply["result"]


def _require_local(network: NetworkConfig, what: str) -> None:
    if not network.is_local:
        raise LocalOnly(
            f"{what} works only on the local development chain (anvil); network {network.name!r} is "
            "not local: its clock is the real one"
        )


def _local_url(network: NetworkConfig, data_dir: Path | None) -> str:
    # With a data dir, the chain `chain up` recorded there (the node itself, not a fault proxy in front
    # of it); without, the network's URL as given (a service that already resolved its endpoint passes
    # its own copy of the network).
    if data_dir is not None and (info := read_run_info(data_dir, network.name)) is not None:
        return info.url
    return rpc_urls(network, data_dir)[0] if data_dir is not None else network.rpc_urls[0]


def chain_time(network: NetworkConfig, data_dir: Path | None) -> int:
    """The timestamp of the local chain's latest block (unix seconds)."""
    url = _local_url(network, data_dir)
    with httpx.Client(timeout=10.0) as client:
        block = _rpc_call(client, url, "eth_getBlockByNumber", ["latest", False])
    return int(block["timestamp"], 16)


def advance_time(
    network: NetworkConfig, data_dir: Path | None, *, seconds: int | None = None, until: int | None = None
) -> TimeAdvance:
    """Move the local chain's clock forward by `seconds`, or to the unix time `until`, and mine a block
    stamped exactly there; later blocks follow on from it. Refused (`LocalOnly`) on any other network,
    and (`ValueError`) for a move that is not forward. The API's local-mode operator route calls this."""
    _require_local(network, "moving time")
    if (seconds is None) == (until is None):
        raise ValueError("give exactly one of seconds and until")
    url = _local_url(network, data_dir)
    with httpx.Client(timeout=10.0) as client:
        latest = _rpc_call(client, url, "eth_getBlockByNumber", ["latest", False])
        before = int(latest["timestamp"], 16)
        target = before + seconds if seconds is not None else int(until or 0)
        if target <= before:
            raise ValueError(f"{target} is not after the chain's time {before}: time moves forward only")
        _rpc_call(client, url, "evm_setNextBlockTimestamp", [target])
        _rpc_call(client, url, "evm_mine", [])
        mined = _rpc_call(client, url, "eth_getBlockByNumber", ["latest", False])
    after = int(mined["timestamp"], 16)
    log.info("chain time advanced before=%d after=%d block=%d", before, after, int(mined["number"], 16))
    return TimeAdvance(before=before, after=after, seconds=after - before, block=int(mined["number"], 16))
