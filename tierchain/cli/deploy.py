"""`tierchain compile` and `tierchain deploy`, the deployment steps shown as a progress bar."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.progress import Progress, TaskID

from ledger.compile import compile_contracts
from ledger.config import load_network
from tierchain.cli.common import JsonOpt, NetworkOpt, console, emit_json, guarded, progress, settings

deploy_log = logging.getLogger("ledger.deploy")


class _StepCounter(logging.Handler):
    """Advances the bar on each step `ledger.deploy` logs (a contract deployed, a wiring call sent)."""

    def __init__(self, bars: Progress, task: TaskID, passthrough: int) -> None:
        super().__init__(level=logging.INFO)
        self.bars = bars
        self.task = task
        self.passthrough = passthrough

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= self.passthrough:  # what the configured level would have shown anyway
            for handler in logging.getLogger().handlers:
                handler.handle(record)
        message = record.getMessage()
        if message.startswith(("contract deployed", "wired")):
            self.bars.update(self.task, advance=1, description=f"deploy: {message.split(' ', 2)[-1][:60]}")


@contextmanager
def _counting(bars: Progress, total: int) -> Iterator[None]:
    task = bars.add_task("deploy", total=total)
    previous_level, previous_propagate = deploy_log.level, deploy_log.propagate
    # The counter sees every INFO step; the log shows only what its configured level allows.
    handler = _StepCounter(bars, task, deploy_log.getEffectiveLevel())
    deploy_log.addHandler(handler)
    deploy_log.setLevel(logging.INFO)
    deploy_log.propagate = False
    try:
        yield
    finally:
        deploy_log.removeHandler(handler)
        deploy_log.setLevel(previous_level)
        deploy_log.propagate = previous_propagate
        bars.update(task, completed=total)


@guarded
def compile_cmd(force: Annotated[bool, typer.Option(help="ignore the cache")] = False) -> None:
    """Compile contracts/ into build/artifacts (skipped when nothing changed)."""
    built = settings()
    with progress() as bars:
        bars.add_task("compiling contracts", total=None)
        result = compile_contracts(built.project_root, built.build_dir, force=force)
    state = "cached" if result.cached else "compiled"
    console.print(f"{state}: {len(result.artifacts)} contracts, source hash {result.source_hash[:12]}")


@guarded
def deploy_cmd(
    network: NetworkOpt = None,
    fresh: Annotated[bool, typer.Option(help="deploy a new system even if a manifest exists")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Deploy and wire the contracts, or verify the recorded deployment (compiles if needed)."""
    from ledger.deploy import deploy_from_settings, step_count

    built = settings()
    steps = step_count(load_network(built, network))  # refuses a network without [governance] at once
    with progress(not as_json) as bars, _counting(bars, steps):
        outcome = deploy_from_settings(built, network, fresh=fresh)
    d = outcome.deployment
    if as_json:
        emit_json(
            {
                "status": outcome.status,
                "transactions": outcome.transactions,
                "manifest": str(outcome.manifest),
                "deployment": d,
            }
        )
        return
    console.print(
        f"{outcome.status}: {d.network} (chain {d.chain_id}) from block {d.deploy_block}, "
        f"{outcome.transactions} transactions; manifest {outcome.manifest}"
    )
    for name, contract in d.contracts.items():
        implementation = d.implementations.get(name)
        behind = f"  (implementation {implementation.address})" if implementation is not None else ""
        console.print(f"  {name:<22} {contract.address}{behind}")
    if d.governance is not None:
        g = d.governance
        console.print(
            f"governance: {g.approvals} of {len(g.operators)} seats approve; delays admin "
            f"{g.admin_delay_seconds} s, policy {g.policy_delay_seconds} s; guardian {g.guardian}, "
            f"onboarding {g.onboarding}"
        )
