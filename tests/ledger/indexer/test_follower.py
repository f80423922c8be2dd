"""The follower loop, its watchdog, and the CLI entry points over a real anvil."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, select
from typer.testing import CliRunner

from ledger.config import Settings
from ledger.errors import ChainUnavailable
from ledger.indexer.cli import app, reconcile_cmd
from ledger.indexer.db import make_engine
from ledger.indexer.errors import StallError
from ledger.indexer.follower import Watchdog, follow, run_indexer
from ledger.indexer.ingest import Indexer
from ledger.indexer.models import Cursor, Event, Token
from ledger.indexer.source import RpcSource
from ledger.localchain import free_port
from tests.ledger.indexer.world import PROJECT_ROOT, World

pytestmark = pytest.mark.chain


@pytest.fixture
def settings_for(tmp_path: Path, build: object, settings: Settings) -> Settings:
    return Settings(
        project_root=PROJECT_ROOT,
        data_dir=tmp_path / "data",
        build_dir=settings.build_dir,
        database_url=f"sqlite:///{tmp_path / 'index.sqlite'}",
    )


def _write_manifest(world: World, settings: Settings) -> None:
    path = settings.data_dir / "deployments" / "local.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(world.deployment.model_dump_json())


def test_follow_picks_up_new_blocks_then_stops_and_resumes(chain: World, settings_for: Settings) -> None:
    _write_manifest(chain, settings_for)
    first = run_indexer(settings_for, chain.network, once=True)
    assert first.cursor == chain.w3.eth.block_number and first.events > 0

    stop = threading.Event()
    outcome: list[object] = []
    thread = threading.Thread(
        target=lambda: outcome.append(run_indexer(settings_for, chain.network, stop=stop, stall_seconds=None))
    )
    thread.start()
    try:
        chain.send("regulator", "ReceivableToken", "freeze", 1, 42)
        target = chain.w3.eth.block_number
        assert settings_for.database_url is not None
        engine = make_engine(settings_for.database_url)
        done = threading.Event()
        for _ in range(500):  # wait on the cursor, not on a clock
            with Session(engine) as s:
                if s.exec(select(Cursor)).one().block_number >= target:
                    done.set()
                    break
            done.wait(0.02)
        assert done.is_set()
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive() and outcome, "the follower stops gracefully when asked"
    again = run_indexer(settings_for, chain.network, once=True)  # restart: resumes, nothing to redo
    assert again.events == 0 and again.cursor == target
    with Session(engine) as s:
        assert len(s.exec(select(Event).where(Event.name == "Frozen")).all()) == 2


def test_unreachable_node_trips_the_watchdog(chain: World, db: object) -> None:
    dead = RpcSource(f"http://127.0.0.1:{free_port()}", attempts=1, backoff=0.01)
    indexer = Indexer(db, dead, chain.deployment, chain.abis, max_reorg_depth=1)  # type: ignore[arg-type]
    with pytest.raises(ChainUnavailable):
        follow(indexer, poll_interval=0.01, stop=threading.Event(), watchdog=Watchdog(None, False), once=True)
    with pytest.raises(StallError, match="no successful sync round"):
        follow(indexer, poll_interval=0.01, stop=threading.Event(), watchdog=Watchdog(0.2, False))


def test_watchdog_notices_a_frozen_head() -> None:
    now = [0.0]
    watchdog = Watchdog(10.0, head_must_advance=True, clock=lambda: now[0])
    watchdog.observe(head=5, cursor=5)
    now[0] = 9.0
    watchdog.check()
    watchdog.observe(head=6, cursor=6)
    now[0] = 18.0
    watchdog.observe(head=6, cursor=6)
    watchdog.check()
    now[0] = 30.0
    watchdog.observe(head=6, cursor=6)  # rounds succeed, but the chain does not move
    with pytest.raises(StallError, match="head stuck at 6"):
        watchdog.check()


def test_cli_run_and_reconcile(
    chain: World, settings_for: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_manifest(chain, settings_for)
    config_dir = tmp_path / "chain_config"
    config_dir.mkdir()
    local = (PROJECT_ROOT / "chain_config" / "local.toml").read_text()
    local = re.sub(r"rpc_urls = \[.*\]", f'rpc_urls = ["{chain.chain.url}"]', local)
    (config_dir / "local.toml").write_text(local)
    for key, value in {
        "TIERCHAIN_PROJECT_ROOT": str(PROJECT_ROOT),
        "TIERCHAIN_CHAIN_CONFIG_DIR": str(config_dir),
        "TIERCHAIN_DATA_DIR": str(settings_for.data_dir),
        "TIERCHAIN_BUILD_DIR": str(settings_for.build_dir),
        "TIERCHAIN_DATABASE_URL": str(settings_for.database_url),
    }.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    result = runner.invoke(app, ["run", "--once"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["reconcile"])
    assert result.exit_code == 0, result.output
    assert "agree" in result.output

    assert settings_for.database_url is not None
    engine = make_engine(settings_for.database_url)
    with Session(engine) as s, s.begin():
        s.exec(update(Token).where(Token.token_id == 2).values(owner="0x" + "ab" * 20))  # type: ignore[call-overload]
    assert [m.kind for m in reconcile_cmd(Settings(), "local")] == ["token.owner"]
    result = runner.invoke(app, ["reconcile"])
    assert result.exit_code == 1
    assert "token.owner" in result.output
