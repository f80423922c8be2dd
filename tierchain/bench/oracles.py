"""Throughput of one oracle node: verify a signed invoice, then sign its EIP-712 attestation.

Builds a two-level test PKI and a directory in memory, signs ``n`` distinct invoices, and
times only the node's work (``verify_document`` + ``AttestationMessage.from_verified`` +
``sign_attestation``), which is what bounds how many documents a node clears per second.
"""

import time as clock
from datetime import UTC, date, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from eth_account import Account

from oracles.attestation import AttestationMessage, Eip712Domain, sign_attestation
from oracles.authority import KIND_EKU
from oracles.checks import CORE_ENTERPRISE, SUPPLIER, Participant
from oracles.documents import DocumentKind, Invoice
from oracles.memory import InMemoryDirectory, InMemoryFingerprintLedger
from oracles.signatures import sign_document
from oracles.trust import TrustStore
from oracles.verify import verify_document

_NOW = datetime(2026, 3, 15, tzinfo=UTC)


def _cert(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    signer: ec.EllipticCurvePrivateKey,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOW - timedelta(days=30))
        .not_valid_after(_NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is not None:  # the leaf signs invoices (see oracles.authority)
        invoices_only = x509.ExtendedKeyUsage([KIND_EKU[DocumentKind.INVOICE]])
        builder = builder.add_extension(invoices_only, critical=False)
    return builder.sign(signer, hashes.SHA256())


def bench_verify_sign(n: int = 1000) -> dict[str, float]:
    """Verify and attest ``n`` invoices; returns docs/second and per-document milliseconds."""
    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = _cert("Bench Root", root_key, None, root_key)
    chain = [_cert("Bench Issuer", leaf_key, root, root_key).public_bytes(Encoding.PEM).decode()]
    trust = TrustStore([root], [])
    seller_id, buyer_id = "91310000MA1FL0XX1X", "91110000100000000X"
    directory = InMemoryDirectory()
    seller, buyer, oracle = Account.create(), Account.create(), Account.create()
    directory.register(seller_id, Participant(address=seller.address, roles=frozenset({SUPPLIER})))
    directory.register(buyer_id, Participant(address=buyer.address, roles=frozenset({CORE_ENTERPRISE})))
    ledger = InMemoryFingerprintLedger()
    domain = Eip712Domain(chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
    signed_docs = [
        sign_document(
            Invoice(
                invoice_code="044001900111",
                invoice_number=str(10_000_000 + i),
                issue_date=date(2026, 3, 1),
                seller_tax_id=seller_id,
                buyer_tax_id=buyer_id,
                currency="CNY",
                amount_without_tax=100_000_00 + i,
                tax_amount=13_000_00,
                total_with_tax=113_000_00 + i,
                line_items_hash="0x" + "ab" * 32,
                due_date=date(2026, 6, 1),
            ),
            leaf_key,
            chain,
        )
        for i in range(n)
    ]
    deadline = int(_NOW.timestamp()) + 3600
    start = clock.perf_counter()
    for signed in signed_docs:
        verdict = verify_document(signed, trust=trust, directory=directory, ledger=ledger, now=_NOW)
        if not verdict.ok:
            raise RuntimeError(f"benchmark document refused: {verdict.refusals}")
        message = AttestationMessage.from_verified(signed.document, seller.address, buyer.address, deadline)
        sign_attestation(message, domain, oracle)
    elapsed = clock.perf_counter() - start
    return {
        "docs": float(n),
        "seconds": elapsed,
        "docs_per_second": n / elapsed,
        "ms_per_doc": 1000 * elapsed / n,
    }


if __name__ == "__main__":
    print(bench_verify_sign())
