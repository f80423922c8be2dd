"""``tierchain oracle ...``: run a node, run or serve the aggregator, submit documents, look one up.

Settings are built once per command and everything else is passed down. Contract addresses come
from the deployment manifest (``tierchain deploy``) unless given explicitly.

The aggregator's submitting key is a setting of its own (``TIERCHAIN_AGGREGATOR_KEYSTORE`` or
``--keystore``; ``--key-env`` on the local chain): off the local network it refuses to start without
one, and on the local network it falls back to anvil's dev account 0 and says so. See docs/oracles.md.
"""

import json
import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from web3 import Web3

from ledger.compile import load_artifact
from ledger.config import NetworkConfig, Settings, load_network
from ledger.deploy import connect, load_deployment
from ledger.errors import ErrorDecoder, SignerError, TierchainError
from ledger.journal import TxJournal
from ledger.keys import Signer, keystore_password, load_keystore, local_accounts, signer_from_env
from ledger.tx import TransactionManager
from oracles.aggregator import Aggregator, BatchReport
from oracles.aggregator_http import AggregatorServer
from oracles.attestation import Eip712Domain
from oracles.intake import load_path
from oracles.node import ChainDirectory, ChainFingerprintLedger, NodeServer, OracleNode
from oracles.store import AggregatorStore, NodeStore
from oracles.trust import TrustStore

app = typer.Typer(help="Trade-document oracles: nodes, the aggregator, submissions.", no_args_is_help=True)
node_app = typer.Typer(help="An oracle node.", no_args_is_help=True)
aggregator_app = typer.Typer(help="The quorum aggregator.", no_args_is_help=True)
app.add_typer(node_app, name="node")
app.add_typer(aggregator_app, name="aggregator")
console = Console()
err_console = Console(stderr=True)
log = logging.getLogger(__name__)

AGGREGATOR_KEYSTORE_ENV = "TIERCHAIN_AGGREGATOR_KEYSTORE"
AGGREGATOR_PASSWORD_ENV = "TIERCHAIN_AGGREGATOR_PASSWORD"

NetworkOpt = Annotated[str | None, typer.Option(help="network name (chain_config/<name>.toml)")]
NodesOpt = Annotated[str, typer.Option(help="comma-separated node URLs")]
ThresholdOpt = Annotated[int, typer.Option(help="M: valid signatures needed per document")]
AggregatorDbOpt = Annotated[
    Path | None, typer.Option(help="aggregator store (default <data_dir>/aggregator.sqlite)")
]
AggregatorKeystoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--keystore",
        envvar=AGGREGATOR_KEYSTORE_ENV,
        help="keystore file of the account that submits attestations (pays their gas)",
    ),
]
AggregatorPasswordOpt = Annotated[
    str, typer.Option("--password-env", help="environment variable holding that keystore's password")
]
AggregatorKeyEnvOpt = Annotated[
    str | None,
    typer.Option("--key-env", help="environment variable holding the submitting raw key (local chains only)"),
]


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    return settings


def _fail(exc: TierchainError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


@dataclass
class _Chain:
    w3: Web3
    network: NetworkConfig
    registry: str
    trade: str
    abis: dict[str, list[dict[str, Any]]]


def _chain(settings: Settings, network_name: str | None, network: NetworkConfig | None = None) -> _Chain:
    network = network or load_network(settings, network_name)
    w3 = connect(settings, network)
    if network.is_local:
        network = network.model_copy(update={"rpc_urls": [str(getattr(w3.provider, "endpoint_uri", ""))]})
    deployment = load_deployment(settings, network.name)
    abis = {n: load_artifact(settings.build_dir, n).abi for n in ("ParticipantRegistry", "TradeRegistry")}
    return _Chain(
        w3, network, deployment.address("ParticipantRegistry"), deployment.address("TradeRegistry"), abis
    )


def _node_signer(
    network: NetworkConfig, key_env: str | None, keystore: Path | None, password_env: str
) -> Signer:
    # A node attests with a key of its own; the aggregator's keystore setting is never a node's.
    if keystore is not None:
        return load_keystore(keystore, keystore_password(password_env))
    if key_env is not None:
        return signer_from_env(network, key_env)
    raise SignerError("give the node a key: --keystore FILE or --key-env VAR")


@node_app.command("run")
def node_run(
    trust_store: Annotated[Path, typer.Option(help="folder of trusted root certificates and CRLs")],
    key_env: Annotated[str | None, typer.Option(help="env var holding a raw key (local chains only)")] = None,
    keystore: Annotated[Path | None, typer.Option(help="encrypted keystore file")] = None,
    password_env: Annotated[str, typer.Option(help="env var holding the keystore password")] = (
        "TIERCHAIN_ORACLE_PASSWORD"
    ),
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8700,
    db: Annotated[
        Path | None, typer.Option(help="node store (default <data_dir>/oracle-<port>.sqlite)")
    ] = None,
    network: NetworkOpt = None,
    crl_grace_hours: Annotated[
        float, typer.Option(help="accept a CRL this many hours past its next update")
    ] = 0.0,
) -> None:
    """Serve POST /sign and GET /health until interrupted."""
    settings = _settings()
    try:
        chain = _chain(settings, network)
        account = _node_signer(chain.network, key_env, keystore, password_env)
        node = OracleNode(
            account,
            Eip712Domain(chain_id=chain.network.chain_id, verifying_contract=chain.trade),
            TrustStore.from_folder(trust_store, crl_grace=timedelta(hours=crl_grace_hours)),
            ChainDirectory(chain.w3, chain.registry, chain.abis["ParticipantRegistry"]),
            ChainFingerprintLedger(chain.w3, chain.trade, chain.abis["TradeRegistry"]),
            NodeStore(db or settings.data_dir / f"oracle-{port}.sqlite"),
        )
        server = NodeServer(node, port)
    except TierchainError as exc:
        raise _fail(exc) from exc
    console.print(f"oracle {node.address} listening on {server.url}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.httpd.server_close()


def aggregator_signer(
    network: NetworkConfig, *, keystore: Path | None, password_env: str, key_env: str | None
) -> tuple[Signer, str]:
    """The account that submits attestations, and a sentence saying which one and why.

    Attesting is open to any account (the oracle signatures are what count), but the submitter pays
    the gas and its nonces must not collide with another service's, so it is chosen on purpose: a
    keystore (``TIERCHAIN_AGGREGATOR_KEYSTORE`` / ``--keystore``, password in ``--password-env``) or, on
    the local chain only, a raw key (``--key-env``). Off the local network there is no default."""
    if keystore is None and os.environ.get(AGGREGATOR_KEYSTORE_ENV):
        keystore = Path(os.environ[AGGREGATOR_KEYSTORE_ENV])
    if keystore is not None:
        signer = load_keystore(keystore, keystore_password(password_env, f"password of {keystore}"))
        return signer, f"aggregator submits with {signer.address} (keystore {keystore})"
    if key_env is not None:
        signer = signer_from_env(network, key_env)
        return signer, f"aggregator submits with {signer.address} (raw key in {key_env})"
    if network.anvil is None:
        raise SignerError(
            f"network {network.name!r}: the aggregator needs its own submitting key: set "
            f"{AGGREGATOR_KEYSTORE_ENV} to a keystore file (password in {AGGREGATOR_PASSWORD_ENV}) "
            "or pass --keystore FILE --password-env VAR"
        )
    signer = local_accounts(network.anvil.mnemonic, 1)[0]
    return signer, (
        f"aggregator submits with anvil's dev account 0 {signer.address} (the local default; "
        f"set {AGGREGATOR_KEYSTORE_ENV} or pass --keystore/--key-env to choose another)"
    )


@dataclass(frozen=True)
class _AggregatorKey:
    keystore: Path | None
    password_env: str
    key_env: str | None


def _aggregator(
    settings: Settings, network: str | None, nodes: str, threshold: int, db: Path | None, key: _AggregatorKey
) -> Aggregator:
    # The key comes first: a misconfigured aggregator is refused before it touches the network.
    config = load_network(settings, network)
    signer, note = aggregator_signer(
        config, keystore=key.keystore, password_env=key.password_env, key_env=key.key_env
    )
    log.info("%s", note)
    err_console.print(note, highlight=False, soft_wrap=True)
    chain = _chain(settings, network, config)
    abis = {n: load_artifact(settings.build_dir, n).abi for n in ("TradeRegistry", "ParticipantRegistry")}
    decoder = ErrorDecoder.from_artifacts(abis)
    journal = TxJournal(settings.data_dir / "journal.sqlite")
    tx = TransactionManager(chain.w3, chain.network, signer, journal, decoder)
    return Aggregator(
        tx,
        chain.w3.eth.contract(address=Web3.to_checksum_address(chain.trade), abi=chain.abis["TradeRegistry"]),
        ChainDirectory(chain.w3, chain.registry, chain.abis["ParticipantRegistry"]),
        ChainFingerprintLedger(chain.w3, chain.trade, chain.abis["TradeRegistry"]),
        AggregatorStore(db or settings.data_dir / "aggregator.sqlite"),
        [url.strip() for url in nodes.split(",") if url.strip()],
        threshold,
    )


def _print_report(report: BatchReport) -> None:
    console.print(json.dumps(report.counts))
    for fp, reason in {**report.refused, **report.no_quorum}.items():
        console.print(f"{fp}: {reason}")


@aggregator_app.command("run")
def aggregator_run(
    nodes: NodesOpt,
    threshold: ThresholdOpt = 2,
    db: AggregatorDbOpt = None,
    network: NetworkOpt = None,
    keystore: AggregatorKeystoreOpt = None,
    password_env: AggregatorPasswordOpt = AGGREGATOR_PASSWORD_ENV,
    key_env: AggregatorKeyEnvOpt = None,
) -> None:
    """Resume every open document: collect signatures, submit, confirm."""
    settings = _settings()
    key = _AggregatorKey(keystore, password_env, key_env)
    try:
        _print_report(_aggregator(settings, network, nodes, threshold, db, key).run())
    except TierchainError as exc:
        raise _fail(exc) from exc


@aggregator_app.command("serve")
def aggregator_serve(
    nodes: NodesOpt,
    threshold: ThresholdOpt = 2,
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8800,
    db: AggregatorDbOpt = None,
    network: NetworkOpt = None,
    keystore: AggregatorKeystoreOpt = None,
    password_env: AggregatorPasswordOpt = AGGREGATOR_PASSWORD_ENV,
    key_env: AggregatorKeyEnvOpt = None,
) -> None:
    """Serve POST /documents (JSON batch intake) and run the aggregator as documents arrive."""
    settings = _settings()
    key = _AggregatorKey(keystore, password_env, key_env)
    try:
        server = AggregatorServer(_aggregator(settings, network, nodes, threshold, db, key), port)
    except TierchainError as exc:
        raise _fail(exc) from exc
    console.print(f"aggregator intake listening on {server.url}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()


@app.command("submit")
def submit(
    path: Annotated[Path, typer.Argument(help="a folder, .json or .csv file of signed documents")],
    nodes: NodesOpt,
    threshold: ThresholdOpt = 2,
    db: AggregatorDbOpt = None,
    network: NetworkOpt = None,
    keystore: AggregatorKeystoreOpt = None,
    password_env: AggregatorPasswordOpt = AGGREGATOR_PASSWORD_ENV,
    key_env: AggregatorKeyEnvOpt = None,
) -> None:
    """Read documents (reporting unreadable records) and drive them to attestation."""
    settings = _settings()
    intake = load_path(path)
    for error in intake.rejected:
        console.print(f"[yellow]rejected[/yellow] {error}")
    key = _AggregatorKey(keystore, password_env, key_env)
    try:
        _print_report(_aggregator(settings, network, nodes, threshold, db, key).submit(intake.accepted))
    except TierchainError as exc:
        raise _fail(exc) from exc


@app.command("status")
def status(
    fingerprint: Annotated[str, typer.Argument(help="0x-hex document fingerprint")],
    db: AggregatorDbOpt = None,
) -> None:
    """Where one document stands in the aggregator's store."""
    settings = _settings()
    item = AggregatorStore(db or settings.data_dir / "aggregator.sqlite").get(fingerprint)
    if item is None:
        console.print(f"{fingerprint}: unknown")
        raise typer.Exit(code=1)
    console.print_json(item.model_dump_json(exclude={"document"}))
