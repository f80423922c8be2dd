"""Documents through HTTP: per-record results with refusal codes, verdicts that say plainly when nothing
attests them yet, and who may look one up; and, with oracle nodes and an aggregator behind the API,
what the oracles conclude reaching `GET /v1/documents/{fingerprint}`."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from api.config import ApiSettings
from api.routes import documents as documents_route
from ledger.config import NetworkConfig
from ledger.deploy import Deployment
from ledger.errors import ErrorDecoder
from ledger.journal import TxJournal
from ledger.localchain import free_port
from ledger.rpc import make_web3
from ledger.tx import TransactionManager
from oracles.aggregator import Aggregator
from oracles.aggregator_http import AggregatorServer
from oracles.attestation import Eip712Domain
from oracles.documents import Invoice
from oracles.node import ChainDirectory, ChainFingerprintLedger, NodeServer, OracleNode
from oracles.signatures import SignedDocument, sign_document
from oracles.store import AggregatorStore, NodeStore
from oracles.testing_pki import Pki, build_pki, write_trust_store
from oracles.trust import TrustStore
from tests.api.support import ApiWorld, Party

pytestmark = pytest.mark.chain

SELLER_ID, BUYER_ID = "91310000MA1FL8T1A1", "91310000MA1FL8T1B2"


def _register(api: TestClient, operator: dict[str, str], legal_id: str, role: str) -> Party:
    answer = api.post("/v1/participants", json={"legal_id": legal_id, "roles": [role]}, headers=operator)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return Party(role, body["participant"]["address"], body["api_key"], body["key_id"])


def _invoice(number: str, buyer: str = BUYER_ID) -> Invoice:
    today = date.today()
    return Invoice.model_validate(
        {
            "kind": 1,
            "currency": "CNY",
            "invoice_code": "044001900111",
            "invoice_number": number,
            "issue_date": today - timedelta(days=10),
            "seller_tax_id": SELLER_ID,
            "buyer_tax_id": buyer,
            "amount_without_tax": 100_000_00,
            "tax_amount": 13_000_00,
            "total_with_tax": 113_000_00,
            "line_items_hash": "0x" + "ab" * 32,
            "due_date": today + timedelta(days=80),
        }
    )


def test_batch_verified_locally_with_refusal_codes(
    api_world: ApiWorld, api_settings: ApiSettings, operator_headers: dict[str, str], tmp_path: Path
) -> None:
    pki = build_pki(random.Random(11), datetime.now(UTC))
    trusted = api_settings.model_copy(update={"trust_store_dir": write_trust_store(tmp_path / "trust", pki)})
    api = TestClient(api_world.make_app(trusted))
    seller = _register(api, operator_headers, SELLER_ID, "SUPPLIER")
    _register(api, operator_headers, BUYER_ID, "CORE_ENTERPRISE")
    stranger = _register(api, operator_headers, "91310000MA1FL8T1C3", "SUPPLIER")
    key, chain = pki.issuers["einvoice"]
    good = sign_document(_invoice("00000001"), key, chain).model_dump(mode="json")
    unknown_buyer = sign_document(_invoice("00000002", buyer="91310000ZZ9ZZ9Z9Z9"), key, chain)
    batch: list[Any] = [good, {"document": {"kind": "invoice"}}, unknown_buyer.model_dump(mode="json")]

    answer = api.post("/v1/documents", json={"documents": batch}, headers=seller.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["mode"], body["accepted"], body["rejected"]) == ("verified_locally", 1, 2)
    first, second, third = body["results"]
    assert first["status"] == "verified_awaiting_attestation" and "no oracle aggregator" in first["note"]
    assert second["status"] == "malformed" and {r["code"] for r in second["refusals"]} == {"MALFORMED"}
    assert third["status"] == "refused" and "UNKNOWN_BUYER" in {r["code"] for r in third["refusals"]}

    fingerprint = first["fingerprint"]
    seen = api.get(f"/v1/documents/{fingerprint}", headers=seller.headers).json()
    assert (seen["status"], seen["attestation"]) == ("verified_awaiting_attestation", None)
    assert "awaiting attestation" in seen["note"]
    refused = api.get(f"/v1/documents/{third['fingerprint']}", headers=seller.headers).json()
    assert refused["status"] == "refused" and refused["refusals"][0]["code"] == "UNKNOWN_BUYER"
    assert api.get(f"/v1/documents/{fingerprint}", headers=stranger.headers).status_code == 404
    assert api.get(f"/v1/documents/{fingerprint}", headers=operator_headers).status_code == 200
    api.app.state.ctx.close()  # type: ignore[attr-defined]


def test_without_aggregator_or_trust_store_the_route_says_so(
    api: TestClient, operator_headers: dict[str, str]
) -> None:
    answer = api.post("/v1/documents", json={"documents": [{}]}, headers=operator_headers)
    assert answer.status_code == 503
    assert "no oracle aggregator and no trust store" in answer.json()["detail"]


# --- With oracle nodes and an aggregator behind the API -------------------------------------------


def _today() -> datetime:
    return datetime.combine(datetime.now(UTC).date(), datetime.min.time(), tzinfo=UTC)


def _pki(now: datetime) -> Pki:
    """What `scripts/gen_documents.py --seed 11 --now <now>` builds: the same keys whatever the day."""
    return build_pki(random.Random(11), now)


@dataclass
class OracleStack:
    """The API, three oracle nodes (ORACLE participants, threshold 2) and the aggregator's HTTP intake."""

    api: TestClient
    aggregator: AggregatorServer
    nodes: list[NodeServer]
    trust_dir: Path
    seller: Party
    restart_node: Callable[[int], NodeServer]

    def settle(self) -> None:
        """Wait until the aggregator has worked on every document handed to it so far."""
        worker = self.aggregator.worker
        assert worker.wait(worker.request(), timeout=120), "the aggregator did not finish its run"

    def restart_nodes(self) -> None:
        """What an operator does after publishing trust material: nodes read the trust store at start."""
        for index in range(len(self.nodes)):
            self.nodes[index].stop()
            self.nodes[index].node.store.close()
            self.nodes[index] = self.restart_node(index)

    def submit(self, record: dict[str, Any]) -> dict[str, Any]:
        answer = self.api.post("/v1/documents", json={"documents": [record]}, headers=self.seller.headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert body["mode"] == "aggregator"
        result: dict[str, Any] = body["results"][0]
        return result

    def look_up(self, fingerprint: str) -> dict[str, Any]:
        answer = self.api.get(f"/v1/documents/{fingerprint}", headers=self.seller.headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


@pytest.fixture
def oracle_stack(
    api_world: ApiWorld,
    api_settings: ApiSettings,
    operator_headers: dict[str, str],
    local_network: NetworkConfig,
    tierchain_deployment: Deployment,
    tierchain_abis: dict[str, list[dict[str, Any]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[Pki], OracleStack]]:
    """Build the stack around a trust store made from ``pki`` (the nodes trust its root and CRL)."""
    monkeypatch.setattr(documents_route, "STATUS_CACHE_SECONDS", 0.0, raising=False)  # read fresh
    started: list[OracleStack] = []
    url = api_world.chain.url
    registry = tierchain_deployment.contracts["ParticipantRegistry"].address
    trade_address = tierchain_deployment.contracts["TradeRegistry"].address
    domain = Eip712Domain(chain_id=local_network.chain_id, verifying_contract=trade_address)

    def directory() -> ChainDirectory:
        return ChainDirectory(make_web3(url), registry, tierchain_abis["ParticipantRegistry"], ttl=0.0)

    def ledger() -> ChainFingerprintLedger:
        return ChainFingerprintLedger(make_web3(url), trade_address, tierchain_abis["TradeRegistry"])

    def build(pki: Pki) -> OracleStack:
        trust_dir = write_trust_store(tmp_path / "trust", pki)
        ports = [free_port() for _ in range(3)]
        names = ["oracle1", "oracle2", "oracle3"]

        def start_node(index: int) -> NodeServer:
            node = OracleNode(
                api_world.actors[names[index]], domain, TrustStore.from_folder(trust_dir), directory(),
                ledger(), NodeStore(tmp_path / f"node{index}.sqlite"),
            )  # fmt: skip
            return NodeServer(node, ports[index]).start()

        setup = TestClient(api_world.make_app())
        for name in names:
            body = {"legal_id": f"ORACLE-{name}", "roles": ["ORACLE"], "custody": "self",
                    "address": api_world.actors[name].address}  # fmt: skip
            assert setup.post("/v1/participants", json=body, headers=operator_headers).status_code == 201
        seller = _register(setup, operator_headers, SELLER_ID, "SUPPLIER")
        _register(setup, operator_headers, BUYER_ID, "CORE_ENTERPRISE")
        setup.app.state.ctx.close()  # type: ignore[attr-defined]
        nodes = [start_node(i) for i in range(3)]
        journal = TxJournal(tmp_path / "aggregator-journal.sqlite")
        decoder = ErrorDecoder.from_artifacts(tierchain_abis)
        tx = TransactionManager(make_web3(url), local_network, api_world.actors["court"], journal, decoder)
        trade = tx.w3.eth.contract(address=trade_address, abi=tierchain_abis["TradeRegistry"])
        aggregator = Aggregator(
            tx, trade, directory(), ledger(), AggregatorStore(tmp_path / "aggregator.sqlite"),
            [n.url for n in nodes], 2, timeout=30.0,
        )  # fmt: skip
        server = AggregatorServer(aggregator, free_port()).start()
        api = TestClient(api_world.make_app(api_settings.model_copy(update={"aggregator_url": server.url})))
        stack = OracleStack(api, server, nodes, trust_dir, seller, start_node)
        started.append(stack)
        return stack

    yield build
    for stack in started:
        stack.api.app.state.ctx.close()  # type: ignore[attr-defined]
        stack.aggregator.stop()
        for node in stack.nodes:
            node.stop()


def _signed(pki: Pki, document: Invoice) -> SignedDocument:
    key, chain = pki.issuers["einvoice"]
    return sign_document(document, key, chain)


def test_oracle_refusal_reaches_the_document_route_with_its_code_field_and_sentence(
    oracle_stack: Callable[[Pki], OracleStack],
) -> None:
    pki = _pki(_today())
    stack = oracle_stack(pki)
    record = _signed(pki, _invoice("00000002", buyer="91310000ZZ9ZZ9Z9Z9")).model_dump(mode="json")

    handed = stack.submit(record)
    assert handed["status"] == "submitted", handed
    stack.settle()

    seen = stack.look_up(handed["fingerprint"])
    assert seen["status"] == "refused", seen
    refusal = next(r for r in seen["refusals"] if r["code"] == "UNKNOWN_BUYER")
    assert refusal["field"] == "buyer_tax_id"
    assert "91310000ZZ9ZZ9Z9Z9" in refusal["message"] and refusal["message"] != "UNKNOWN_BUYER"
    assert {r["code"] for r in seen["refusals"]} == {"UNKNOWN_BUYER"}


def test_reprint_of_an_attested_invoice_is_refused_as_already_attested(
    oracle_stack: Callable[[Pki], OracleStack],
) -> None:
    pki = _pki(_today())
    stack = oracle_stack(pki)
    original = _signed(pki, _invoice("00000001"))
    first = stack.submit(original.model_dump(mode="json"))
    stack.settle()
    assert stack.look_up(first["fingerprint"])["status"] == "attested"

    reprint = original.model_dump(mode="json")
    reprint["document"] |= {"invoice_code": "0440-0190-0111", "invoice_number": "1", "currency": "cny",
                            "kind": "INVOICE", "seller_tax_id": SELLER_ID.lower()}  # fmt: skip
    for record in (reprint, original.model_dump(mode="json")):
        again = stack.submit(record)
        assert again["fingerprint"] == first["fingerprint"]
        assert again["status"] == "refused", again
        assert [r["code"] for r in again["refusals"]] == ["ALREADY_ATTESTED"]
        assert first["fingerprint"] in again["refusals"][0]["message"]
    # The refusal is about the new submission; the document itself stays attested.
    assert stack.look_up(first["fingerprint"])["status"] == "attested"


def test_resubmission_after_a_fresh_crl_is_verified_again_and_attested(
    oracle_stack: Callable[[Pki], OracleStack],
) -> None:
    stale = _pki(_today() - timedelta(days=45))  # its CRL was due 15 days ago
    stack = oracle_stack(stale)
    record = _signed(stale, _invoice("00000003")).model_dump(mode="json")
    handed = stack.submit(record)
    stack.settle()
    refused = stack.look_up(handed["fingerprint"])
    assert refused["status"] == "refused" and [r["code"] for r in refused["refusals"]] == ["CRL_STALE"]
    assert "resubmit" in refused["refusals"][0]["message"]

    fresh = _pki(_today())  # the same CA, its current CRL
    crl = fresh.crl.public_bytes(serialization.Encoding.PEM).decode()
    (stack.trust_dir / "issuing-ca.crl.pem").write_text(crl)
    stack.restart_nodes()

    again = stack.submit(record)
    assert again["status"] == "submitted", again
    stack.settle()
    assert stack.look_up(handed["fingerprint"])["status"] == "attested"


class _StandInAggregator(BaseHTTPRequestHandler):
    """Takes every document as pending, then tells whoever asks that the nodes refused it."""

    asked: ClassVar[list[str]] = []

    def _reply(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        records = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self._reply({"results": [{"index": i, "status": "pending"} for i, _ in enumerate(records, 1)]})

    def do_GET(self) -> None:
        fp = self.path.rsplit("/", 1)[-1]
        self.asked.append(fp)
        refusal = {"code": "UNKNOWN_BUYER", "field": "buyer_tax_id", "message": "nobody registered it"}
        self._reply(
            {"fingerprint": fp, "status": "refused", "reason": "UNKNOWN_BUYER", "refusals": [refusal]}
        )

    def log_message(self, *args: Any) -> None:
        pass


def test_document_state_is_read_from_the_aggregator_at_most_once_per_cache_period(
    api_world: ApiWorld, api_settings: ApiSettings, operator_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), _StandInAggregator)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    api = TestClient(api_world.make_app(api_settings.model_copy(update={"aggregator_url": url})))
    seller = _register(api, operator_headers, SELLER_ID, "SUPPLIER")
    record = _signed(_pki(_today()), _invoice("00000004")).model_dump(mode="json")
    handed = api.post("/v1/documents", json={"documents": [record]}, headers=seller.headers).json()
    fingerprint = handed["results"][0]["fingerprint"]

    def look() -> dict[str, Any]:
        body: dict[str, Any] = api.get(f"/v1/documents/{fingerprint}", headers=seller.headers).json()
        return body

    monkeypatch.setattr(documents_route, "STATUS_CACHE_SECONDS", 3600.0)
    assert look()["status"] == "submitted" and _StandInAggregator.asked == []  # just heard from it
    monkeypatch.setattr(documents_route, "STATUS_CACHE_SECONDS", 0.0)
    assert [r["code"] for r in look()["refusals"]] == ["UNKNOWN_BUYER"] and len(_StandInAggregator.asked) == 1
    httpd.shutdown()
    httpd.server_close()
    down = look()  # the aggregator is gone: the last state seen, said so
    assert down["status"] == "refused" and "could not tell" in down["note"]
    api.app.state.ctx.close()  # type: ignore[attr-defined]
