"""A throwaway certificate authority for tests, benchmarks and the demo document set.

Root CA -> issuing CA -> one leaf per issuer: the e-invoice platform (ECDSA P-256, invoices), an
ERP (Ed25519, purchase orders and the invoices it exports), a carrier (ECDSA, delivery notes) and a
warehouse (Ed25519, warehouse receipts), plus an expired, a revoked and a rogue issuer. Each leaf
carries Tierchain's document-signing extended key usages for the kinds it may sign (see
``oracles.authority``), so the trust store needs no ``issuers.toml`` for them. Every key derives
from the caller's ``random.Random`` and signatures are deterministic, so a seed always yields the
same certificates byte for byte. Never use these keys for anything real.
"""

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from oracles.authority import ISSUERS_FILE, KIND_EKU
from oracles.documents import DocumentKind
from oracles.signatures import SigningKey

INVOICE, PURCHASE_ORDER = DocumentKind.INVOICE, DocumentKind.PURCHASE_ORDER
DELIVERY_NOTE, WAREHOUSE_RECEIPT = DocumentKind.DELIVERY_NOTE, DocumentKind.WAREHOUSE_RECEIPT

ISSUERS_TOML_HEADER = """\
# Which issuer certificates may sign which document kinds (see oracles/authority.py).
#
# Certificates of the Tierchain test CA carry the kinds they may sign as extended key usages, so
# they need no entry here. Grant kinds to certificates from other CAs with one table each, matched
# by exactly one of subject (RFC 4514), san (a subject-alternative name) or fingerprint (SHA-256
# of the certificate's DER, hex):
#
# [[issuer]]
# name = "Acme Logistics delivery platform"
# subject = "CN=Acme Logistics Signing,O=Acme Logistics Ltd,C=CN"
# kinds = ["delivery_note"]
"""


def ec_key(rng: random.Random) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(rng.getrandbits(250) + 1, ec.SECP256R1())


def ed_key(rng: random.Random) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def issue_certificate(
    rng: random.Random,
    name: str,
    key: SigningKey,
    issuer: tuple[x509.Certificate, SigningKey] | None,
    not_before: datetime,
    not_after: datetime,
    *,
    ca: bool,
    digital_signature: bool = True,
    kinds: Iterable[DocumentKind] = (),
) -> x509.Certificate:
    """A certificate for ``key``; self-signed when ``issuer`` is None. ``kinds`` become EKUs."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = (subject, key) if issuer is None else (issuer[0].subject, issuer[1])
    usage = {name: False for name in ("content_commitment", "key_encipherment", "data_encipherment")}
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(rng.getrandbits(63) + 1)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature and not ca,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
                **usage,
            ),
            critical=True,
        )
    )
    ekus = [KIND_EKU[kind] for kind in sorted(set(kinds))]
    if ekus:
        builder = builder.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
    if isinstance(issuer_key, ed25519.Ed25519PrivateKey):
        return builder.sign(issuer_key, None)
    return builder.sign(issuer_key, hashes.SHA256(), ecdsa_deterministic=True)


@dataclass
class Pki:
    """The test CA hierarchy and the issuers' keys and chains."""

    root: x509.Certificate
    intermediate: x509.Certificate
    intermediate_key: ec.EllipticCurvePrivateKey
    crl: x509.CertificateRevocationList
    issuers: dict[str, tuple[SigningKey, list[str]]] = field(default_factory=dict)


def issuing_crl(
    pki_intermediate: x509.Certificate,
    key: ec.EllipticCurvePrivateKey,
    revoked: dict[int, datetime],
    last_update: datetime,
    next_update: datetime,
) -> x509.CertificateRevocationList:
    """A CRL from the issuing CA revoking ``serial -> revocation date``."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki_intermediate.subject)
        .last_update(last_update)
        .next_update(next_update)
    )
    for serial, when in revoked.items():
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    return builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)


def build_pki(rng: random.Random, now: datetime) -> Pki:
    """Root -> intermediate -> issuers, plus an expired, a revoked and a rogue issuer."""
    year = timedelta(days=365)
    root_key, inter_key = ec_key(rng), ec_key(rng)
    root = issue_certificate(
        rng, "Tierchain Test Root CA", root_key, None, now - 2 * year, now + 10 * year, ca=True
    )
    inter = issue_certificate(
        rng, "Tierchain Test Issuing CA", inter_key, (root, root_key), now - year, now + 5 * year, ca=True
    )
    chain_tail = [pem(inter)]
    issuers: dict[str, tuple[SigningKey, list[str]]] = {}
    specs: list[tuple[str, SigningKey, datetime, datetime, tuple[DocumentKind, ...]]] = [
        ("einvoice", ec_key(rng), now - year, now + 2 * year, (INVOICE,)),
        ("erp", ed_key(rng), now - year, now + 2 * year, (PURCHASE_ORDER, INVOICE)),
        ("carrier", ec_key(rng), now - year, now + 2 * year, (DELIVERY_NOTE,)),
        ("warehouse", ed_key(rng), now - year, now + 2 * year, (WAREHOUSE_RECEIPT,)),
        ("einvoice-expired", ec_key(rng), now - 2 * year, now - timedelta(days=30), (INVOICE,)),
        ("erp-revoked", ed_key(rng), now - year, now + 2 * year, (PURCHASE_ORDER, INVOICE)),
    ]
    for name, key, start, end, kinds in specs:
        cert = issue_certificate(
            rng, f"Test {name} signer", key, (inter, inter_key), start, end, ca=False, kinds=kinds
        )
        issuers[name] = (key, [pem(cert), *chain_tail])
    revoked_serial = x509.load_pem_x509_certificate(issuers["erp-revoked"][1][0].encode()).serial_number
    crl = issuing_crl(
        inter, inter_key, {revoked_serial: now - timedelta(days=10)}, now - timedelta(days=1),
        now + timedelta(days=30),
    )  # fmt: skip
    rogue_key = ec_key(rng)
    rogue_root = issue_certificate(
        rng, "Tierchain Test Root CA", rogue_key, None, now - year, now + year, ca=True
    )
    leaf_key = ec_key(rng)
    rogue_leaf = issue_certificate(
        rng, "Test einvoice signer", leaf_key, (rogue_root, rogue_key), now - year, now + year, ca=False,
        kinds=(INVOICE,),
    )  # fmt: skip
    issuers["rogue"] = (leaf_key, [pem(rogue_leaf)])
    return Pki(root=root, intermediate=inter, intermediate_key=inter_key, crl=crl, issuers=issuers)


def write_trust_store(folder: Path, pki: Pki) -> Path:
    """The folder a node loads with ``TrustStore.from_folder``: root, CRL and issuers.toml."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "root-ca.pem").write_text(pem(pki.root))
    (folder / "issuing-ca.crl.pem").write_text(pki.crl.public_bytes(serialization.Encoding.PEM).decode())
    (folder / ISSUERS_FILE).write_text(ISSUERS_TOML_HEADER)
    return folder
