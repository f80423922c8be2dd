"""Certificate chains and issuer signatures: what is trusted, what is refused, and why."""

import base64
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization

from oracles.errors import TrustStoreError
from oracles.reasons import ReasonCode
from oracles.signatures import SignedDocument, sign_document, verify_issuer_signature
from oracles.trust import TrustStore


def _codes(signed: SignedDocument, trust: TrustStore, at: datetime) -> set[ReasonCode]:
    return {r.code for r in verify_issuer_signature(signed, trust, at)}


@pytest.mark.parametrize("issuer", ["einvoice", "erp", "carrier", "warehouse"])
def test_ecdsa_and_ed25519_issuers_verify(
    issuer: str,
    sign: Callable[..., SignedDocument],
    make_invoice: Callable[..., Any],
    trust: TrustStore,
    now: datetime,
) -> None:
    assert _codes(sign(make_invoice(), issuer), trust, now) == set()


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
