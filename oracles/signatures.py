"""Issuer signatures over a document's canonical content.

Issuers (the e-invoice platform, an ERP, a carrier, a warehouse) sign the canonical content
bytes rather than the file they sent, so re-exporting or reformatting a document keeps its
signature valid while changing any field breaks it. Accepted keys: ECDSA P-256 with SHA-256
(DER signature) and Ed25519, the two the issuing platforms we integrate use. Our own signing
helper uses deterministic ECDSA (RFC 6979) so generated test data is reproducible and no nonce
can ever be reused.
"""

import base64
import binascii
from datetime import datetime
from typing import Annotated

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from oracles.authority import KIND_PLURAL, describe_kinds
from oracles.canonical import canonical_content_bytes
from oracles.documents import TradeDocument
from oracles.reasons import ReasonCode, Refusal
from oracles.trust import ChainRefused, TrustStore

SigningKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def _check_base64(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError("signature must be standard base64") from exc
    return value


def _check_pem(value: str) -> str:
    if "-----BEGIN CERTIFICATE-----" not in value:
        raise ValueError("each chain entry must be a PEM certificate")
    return value.strip() + "\n"


class SignedDocument(BaseModel):
    """A document as an issuer delivered it: content, signature, and the signer's chain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    document: TradeDocument
    signature: Annotated[str, AfterValidator(_check_base64)]
    certificate_chain: Annotated[list[Annotated[str, AfterValidator(_check_pem)]], Field(min_length=1)]


def sign_document(document: TradeDocument, key: SigningKey, chain_pems: list[str]) -> SignedDocument:
    """Sign as an issuer would; used by the document generator and by tests."""
    payload = canonical_content_bytes(document)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.sign(payload)
    else:
        raw = key.sign(payload, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    return SignedDocument(
        document=document, signature=base64.b64encode(raw).decode("ascii"), certificate_chain=chain_pems
    )


def _bad_signature(message: str) -> Refusal:
    return Refusal(code=ReasonCode.SIGNATURE_INVALID, field="signature", message=message)


def _not_authorized(signed: SignedDocument, trust: TrustStore, leaf: x509.Certificate) -> list[Refusal]:
    kind = signed.document.kind
    allowed = trust.authority.kinds_for(leaf)
    if kind in allowed:
        return []
    subject = leaf.subject.rfc4514_string()
    wanted = KIND_PLURAL[kind]
    if allowed:
        message = (
            f"certificate {subject!r} may sign {describe_kinds(allowed)} only, not {wanted}; have this "
            f"document signed by an issuer authorized for {wanted}, or grant the certificate "
            f"{kind.name.lower()!r} in the trust store's issuers.toml"
        )
    else:
        message = (
            f"certificate {subject!r} is not authorized to sign any kind of trade document; grant it "
            f"{kind.name.lower()!r} in the trust store's issuers.toml, or have its CA issue it Tierchain's "
            "document-signing extended key usage for " + wanted
        )
    return [Refusal(code=ReasonCode.ISSUER_NOT_AUTHORIZED, field="certificate_chain", message=message)]


def verify_issuer_signature(signed: SignedDocument, trust: TrustStore, at: datetime) -> list[Refusal]:
    """Refusals for the chain, the signer's authority over this kind and the signature itself;
    empty when the issuer's signature holds."""
    try:
        leaf = trust.validate_chain(signed.certificate_chain, at)
    except ChainRefused as refused:
        return [refused.refusal]
    refusals = _not_authorized(signed, trust, leaf)
    payload = canonical_content_bytes(signed.document)
    raw = base64.b64decode(signed.signature)
    key = leaf.public_key()
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(raw, payload)
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            key.verify(raw, payload, ec.ECDSA(hashes.SHA256()))
        else:
            unsupported = "the signing certificate's key type is not ECDSA P-256 or Ed25519"
            return [*refusals, _bad_signature(unsupported)]
    except InvalidSignature:
        return [
            *refusals,
            _bad_signature(
                "the issuer's signature does not match the document content; it was altered after signing "
                "or signed with another key"
            ),
        ]
    return refusals
