"""Certificate chains and issuer signatures: what is trusted, what is refused, and why."""

import base64
import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization

from oracles.documents import DeliveryNote, DocumentKind, Invoice, PurchaseOrder, WarehouseReceipt
from oracles.errors import TrustStoreError
from oracles.reasons import ReasonCode
from oracles.signatures import SignedDocument, sign_document, verify_issuer_signature
from oracles.trust import TrustStore


def _codes(signed: SignedDocument, trust: TrustStore, at: datetime) -> set[ReasonCode]:
    return {r.code for r in verify_issuer_signature(signed, trust, at)}


def _document(kind: DocumentKind, invoice: Invoice) -> Any:
    """A valid document of ``kind`` between the reference invoice's parties."""
    if kind is DocumentKind.INVOICE:
        return invoice
    if kind is DocumentKind.PURCHASE_ORDER:
        return PurchaseOrder(
            po_number="PO-7", buyer_tax_id=invoice.buyer_tax_id, seller_tax_id=invoice.seller_tax_id,
            order_date=invoice.issue_date, amount=invoice.total_with_tax, currency="CNY",
            line_items_hash=invoice.line_items_hash,
        )  # fmt: skip
    if kind is DocumentKind.DELIVERY_NOTE:
        return DeliveryNote(
            note_number="DN-7", carrier_tax_id="91310000MA1FL0YY2Y", invoice_number=invoice.invoice_number,
            seller_tax_id=invoice.seller_tax_id, buyer_tax_id=invoice.buyer_tax_id,
            delivery_date=invoice.issue_date, quantity=10, amount=invoice.total_with_tax, currency="CNY",
        )  # fmt: skip
    return WarehouseReceipt(
        receipt_number="WR-7", warehouse_id="SH-WH-01", depositor_tax_id=invoice.seller_tax_id,
        goods_description_hash="0x" + "cd" * 32, quantity=10, amount=invoice.total_with_tax,
        issue_date=invoice.issue_date, currency="CNY",
    )  # fmt: skip


AUTHORITY = {
    "einvoice": {DocumentKind.INVOICE},
    "erp": {DocumentKind.PURCHASE_ORDER, DocumentKind.INVOICE},
    "carrier": {DocumentKind.DELIVERY_NOTE},
    "warehouse": {DocumentKind.WAREHOUSE_RECEIPT},
}


@pytest.mark.parametrize("issuer", sorted(AUTHORITY))
@pytest.mark.parametrize("kind", list(DocumentKind), ids=lambda k: k.name.lower())
def test_each_issuer_signs_its_own_kinds_only(
    issuer: str,
    kind: DocumentKind,
    sign: Callable[..., SignedDocument],
    make_invoice: Callable[..., Any],
    trust: TrustStore,
    now: datetime,
) -> None:
    """ECDSA and Ed25519 issuers verify for their kinds; any other kind is ISSUER_NOT_AUTHORIZED."""
    refusals = verify_issuer_signature(sign(_document(kind, make_invoice()), issuer), trust, now)
    if kind in AUTHORITY[issuer]:
        assert refusals == []
    else:
        assert [(r.code, r.field) for r in refusals] == [
            (ReasonCode.ISSUER_NOT_AUTHORIZED, "certificate_chain")
        ]
        assert "issuers.toml" in refusals[0].message and "Test " + issuer in refusals[0].message


def test_carrier_signing_an_invoice_is_told_what_to_do(
    sign: Callable[..., SignedDocument], make_invoice: Callable[..., Any], trust: TrustStore, now: datetime
) -> None:
    (refusal,) = verify_issuer_signature(sign(make_invoice(), "carrier"), trust, now)
    assert refusal.message == (
        "certificate 'CN=Test carrier signer' may sign delivery notes only, not invoices; have this document "
        "signed by an issuer authorized for invoices, or grant the certificate 'invoice' in the trust "
        "store's issuers.toml"
    )


def test_unauthorized_and_forged_are_both_reported(
    pki: Any, gen: Any, make_invoice: Callable[..., Any], trust: TrustStore, now: datetime
) -> None:
    forged = sign_document(make_invoice(), gen.ec_key(random.Random(8)), pki.issuers["carrier"][1])
    assert _codes(forged, trust, now) == {ReasonCode.ISSUER_NOT_AUTHORIZED, ReasonCode.SIGNATURE_INVALID}


def _plain_leaf(pki: Any, gen: Any, now: datetime, **extra: Any) -> tuple[Any, list[str], Any]:
    """A leaf of the trusted CA that carries no Tierchain EKU (as a third-party CA would issue)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    rng = random.Random(21)
    key = gen.ec_key(rng)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Acme Logistics Signing"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme Logistics Ltd"),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(pki.intermediate.subject)
        .public_key(key.public_key())
        .serial_number(777)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("sign.acme-logistics.example")]), critical=False
        )
    )
    cert = builder.sign(pki.intermediate_key, hashes.SHA256())
    return key, [gen.pem(cert), gen.pem(pki.intermediate)], cert


def _folder_with(tmp_path: Path, pki: Any, gen: Any, toml: str) -> TrustStore:
    gen.write_trust_store(tmp_path, pki)
    (tmp_path / "issuers.toml").write_text(toml)
    return TrustStore.from_folder(tmp_path)


def test_a_certificate_without_grants_signs_nothing(
    pki: Any, gen: Any, make_invoice: Callable[..., Any], trust: TrustStore, now: datetime
) -> None:
    key, chain, _ = _plain_leaf(pki, gen, now)
    (refusal,) = verify_issuer_signature(sign_document(make_invoice(), key, chain), trust, now)
    assert refusal.code == ReasonCode.ISSUER_NOT_AUTHORIZED
    assert "not authorized to sign any kind of trade document" in refusal.message


@pytest.mark.parametrize(
    "matcher",
    [
        'subject = "O=Acme Logistics Ltd,CN=Acme Logistics Signing"',
        'san = "sign.acme-logistics.example"',
        "fingerprint = '{fingerprint}'",
    ],
    ids=["subject", "san", "fingerprint"],
)
def test_issuers_toml_grants_kinds_to_third_party_certificates(
    matcher: str, pki: Any, gen: Any, make_invoice: Callable[..., Any], tmp_path: Path, now: datetime
) -> None:
    key, chain, cert = _plain_leaf(pki, gen, now)
    colons = ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))  # as openssl prints it
    rule = matcher.format(fingerprint=colons)
    store = _folder_with(
        tmp_path, pki, gen, f'[[issuer]]\nname = "Acme"\n{rule}\nkinds = ["delivery_note", 3]\n'
    )
    note = _document(DocumentKind.DELIVERY_NOTE, make_invoice())
    assert _codes(sign_document(note, key, chain), store, now) == set()
    assert _codes(sign_document(make_invoice(), key, chain), store, now) == {ReasonCode.ISSUER_NOT_AUTHORIZED}


def test_issuers_toml_adds_to_the_certificate_grants(
    pki: Any, gen: Any, sign: Callable[..., SignedDocument], make_invoice: Callable[..., Any],
    tmp_path: Path, now: datetime,
) -> None:  # fmt: skip
    store = _folder_with(
        tmp_path, pki, gen, '[[issuer]]\nname = "carrier invoices too"\n'
        'subject = "CN=Test carrier signer"\nkinds = ["invoice"]\n',
    )  # fmt: skip
    assert _codes(sign(make_invoice(), "carrier"), store, now) == set()
    assert _codes(sign(make_invoice(), "warehouse"), store, now) == {ReasonCode.ISSUER_NOT_AUTHORIZED}


@pytest.mark.parametrize(
    ("toml", "error"),
    [
        ('[[issuer]]\nname = "x"\nkinds = ["invoice"]\n', "exactly one of subject, san or fingerprint"),
        ('[[issuer]]\nname = "x"\nsubject = "CN=a"\nsan = "b"\nkinds = [1]\n', "exactly one"),
        ('[[issuer]]\nname = "x"\nsubject = "CN=a"\nkinds = ["cheque"]\n', "kind 'cheque'"),
        ('[[issuer]]\nname = "x"\nsubject = "CN=a"\nkinds = []\n', "issuer.0.kinds"),
        ('[[issuer]]\nname = "x"\nfingerprint = "abc"\nkinds = [1]\n', "fingerprint"),
        ("[[issuer]\n", "cannot read"),
    ],
)
def test_bad_issuers_toml_is_a_trust_store_error(
    toml: str, error: str, pki: Any, gen: Any, tmp_path: Path
) -> None:
    with pytest.raises(TrustStoreError, match=re.escape(error)):
        _folder_with(tmp_path, pki, gen, toml)


def test_generated_trust_store_folder_loads_with_an_example_issuers_toml(
    pki: Any, gen: Any, sign: Callable[..., SignedDocument], make_invoice: Callable[..., Any],
    tmp_path: Path, now: datetime,
) -> None:  # fmt: skip
    store = TrustStore.from_folder(gen.write_trust_store(tmp_path, pki))
    assert store.authority.rules == [] and "[[issuer]]" in (tmp_path / "issuers.toml").read_text()
    assert _codes(sign(make_invoice()), store, now) == set()


# --- CRL freshness -----------------------------------------------------------------------------


def _crl(
    pki: Any, gen: Any, now: datetime, last: int, next_: int, revoked: dict[int, Any] | None = None
) -> Any:
    return gen.issuing_crl(
        pki.intermediate, pki.intermediate_key, revoked or {},
        now + timedelta(days=last), now + timedelta(days=next_),
    )  # fmt: skip


def test_stale_crl_refuses_verification(
    pki: Any, gen: Any, sign: Callable[..., SignedDocument], make_invoice: Callable[..., Any], now: datetime
) -> None:
    store = TrustStore([pki.root], [_crl(pki, gen, now, -40, -10)])
    refusals = verify_issuer_signature(sign(make_invoice()), store, now)
    assert [r.code for r in refusals] == [ReasonCode.CRL_STALE]
    assert "Tierchain Test Issuing CA" in refusals[0].message and "publish" in refusals[0].message
    assert _codes(sign(make_invoice()), store, now - timedelta(days=11)) == set()


def test_crl_grace_is_a_policy_option(
    pki: Any, gen: Any, sign: Callable[..., SignedDocument], make_invoice: Callable[..., Any], now: datetime
) -> None:
    stale = [_crl(pki, gen, now, -40, -1)]
    assert _codes(sign(make_invoice()), TrustStore([pki.root], stale), now) == {ReasonCode.CRL_STALE}
    lenient = TrustStore([pki.root], stale, crl_grace=timedelta(days=2))
    assert _codes(sign(make_invoice()), lenient, now) == set()


def test_freshest_crl_decides_staleness_and_every_crl_revokes(
    pki: Any, gen: Any, sign: Callable[..., SignedDocument], make_invoice: Callable[..., Any], now: datetime
) -> None:
    revoked = x509_serial(pki.issuers["erp-revoked"][1][0])
    old = _crl(pki, gen, now, -40, -10, {revoked: now - timedelta(days=50)})
    store = TrustStore([pki.root], [old, _crl(pki, gen, now, -1, 30)])
    assert _codes(sign(make_invoice()), store, now) == set()
    assert _codes(sign(make_invoice(), "erp-revoked"), store, now) == {ReasonCode.CERT_REVOKED}


def test_revocation_outranks_staleness(
    pki: Any, gen: Any, sign: Callable[..., SignedDocument], make_invoice: Callable[..., Any], now: datetime
) -> None:
    revoked = x509_serial(pki.issuers["erp-revoked"][1][0])
    store = TrustStore([pki.root], [_crl(pki, gen, now, -40, -10, {revoked: now - timedelta(days=50)})])
    assert _codes(sign(make_invoice(), "erp-revoked"), store, now) == {ReasonCode.CERT_REVOKED}


def x509_serial(pem: str) -> int:
    return int(serialization_load(pem).serial_number)


def test_chain_may_include_the_root(
    pki: Any, gen: Any, make_invoice: Callable[..., Any], trust: TrustStore, now: datetime
) -> None:
    key, chain = pki.issuers["einvoice"]
    assert _codes(sign_document(make_invoice(), key, [*chain, gen.pem(pki.root)]), trust, now) == set()


def test_validity_is_judged_at_the_verification_time(
    sign: Callable[..., SignedDocument], make_invoice: Callable[..., Any], trust: TrustStore, now: datetime
) -> None:
    signed = sign(make_invoice(), "einvoice-expired")
    assert _codes(signed, trust, now) == {ReasonCode.CERT_EXPIRED}
    assert _codes(signed, trust, now - timedelta(days=60)) == set()
    assert _codes(sign(make_invoice()), trust, now - timedelta(days=400)) == {ReasonCode.CERT_NOT_YET_VALID}


def test_revocation_applies_from_its_date(
    sign: Callable[..., SignedDocument], make_invoice: Callable[..., Any], trust: TrustStore, now: datetime
) -> None:
    signed = sign(make_invoice(), "erp-revoked")
    assert _codes(signed, trust, now) == {ReasonCode.CERT_REVOKED}
    assert _codes(signed, trust, now - timedelta(days=20)) == set()


def test_crl_signed_by_someone_else_is_ignored(
    pki: Any, gen: Any, sign: Callable[..., SignedDocument], make_invoice: Callable[..., Any], now: datetime
) -> None:
    from cryptography import x509

    impostor = gen.ec_key(random.Random(3))
    fake_crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.intermediate.subject)
        .last_update(now - timedelta(days=1))
        .next_update(now + timedelta(days=1))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(
                x509.load_pem_x509_certificate(pki.issuers["einvoice"][1][0].encode()).serial_number
            )
            .revocation_date(now - timedelta(days=1))
            .build()
        )
        .sign(impostor, hashes.SHA256())
    )
    assert _codes(sign(make_invoice()), TrustStore([pki.root], [fake_crl]), now) == set()


def test_forged_signature_and_rogue_chain(
    pki: Any,
    gen: Any,
    sign: Callable[..., SignedDocument],
    make_invoice: Callable[..., Any],
    trust: TrustStore,
    now: datetime,
) -> None:
    forged = sign_document(make_invoice(), gen.ec_key(random.Random(9)), pki.issuers["einvoice"][1])
    assert _codes(forged, trust, now) == {ReasonCode.SIGNATURE_INVALID}
    garbage = sign(make_invoice()).model_copy(update={"signature": base64.b64encode(b"\x00" * 64).decode()})
    assert _codes(garbage, trust, now) == {ReasonCode.SIGNATURE_INVALID}
    assert _codes(sign(make_invoice(), "rogue"), trust, now) == {ReasonCode.CERT_UNTRUSTED}


def test_leaf_signing_another_leaf_is_not_a_ca(
    pki: Any, gen: Any, make_invoice: Callable[..., Any], trust: TrustStore, now: datetime
) -> None:
    rng = random.Random(4)
    parent_key, parent_chain = pki.issuers["einvoice"]
    parent = serialization_load(parent_chain[0])
    key = gen.ec_key(rng)
    cert = gen.issue_certificate(
        rng, "sub", key, (parent, parent_key), now - timedelta(days=1), now + timedelta(days=9), ca=False
    )
    signed = sign_document(make_invoice(), key, [gen.pem(cert), *parent_chain])
    refusals = verify_issuer_signature(signed, trust, now)
    assert [r.code for r in refusals] == [ReasonCode.CERT_UNTRUSTED]
    assert "not a certificate authority" in refusals[0].message


def test_leaf_without_digital_signature_usage(
    pki: Any, gen: Any, make_invoice: Callable[..., Any], trust: TrustStore, now: datetime
) -> None:
    rng = random.Random(6)
    key = gen.ec_key(rng)
    cert = gen.issue_certificate(
        rng,
        "enc-only",
        key,
        (pki.intermediate, pki.intermediate_key),
        now - timedelta(days=1),
        now + timedelta(days=9),
        ca=False,
        digital_signature=False,
    )
    signed = sign_document(make_invoice(), key, [gen.pem(cert), gen.pem(pki.intermediate)])
    refusals = verify_issuer_signature(signed, trust, now)
    assert [r.code for r in refusals] == [ReasonCode.CERT_UNTRUSTED]
    assert "may not sign documents" in refusals[0].message


def test_chain_missing_its_intermediate_is_untrusted(
    pki: Any, make_invoice: Callable[..., Any], trust: TrustStore, now: datetime
) -> None:
    key, chain = pki.issuers["einvoice"]
    assert _codes(sign_document(make_invoice(), key, chain[:1]), trust, now) == {ReasonCode.CERT_UNTRUSTED}


def test_trust_store_folder(pki: Any, gen: Any, tmp_path: Path) -> None:
    with pytest.raises(TrustStoreError):
        TrustStore.from_folder(tmp_path / "missing")
    with pytest.raises(TrustStoreError):
        TrustStore.from_folder(tmp_path)
    (tmp_path / "root.pem").write_text(gen.pem(pki.root))
    (tmp_path / "issuing.crl.pem").write_bytes(pki.crl.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "README.txt").write_text("ignored")
    store = TrustStore.from_folder(tmp_path)
    assert len(store.roots) == 1 and len(store.crls) == 1
    (tmp_path / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(TrustStoreError, match=r"broken\.pem"):
        TrustStore.from_folder(tmp_path)


def serialization_load(pem: str) -> Any:
    from cryptography import x509

    return x509.load_pem_x509_certificate(pem.encode())
