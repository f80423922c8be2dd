"""Which issuer may sign which kind of trade document.

A trusted chain proves *who* signed; it does not make a carrier an authority on invoices. Each
leaf certificate may sign the document kinds granted to it in one of two ways:

* its CA asserts them, with Tierchain's document-signing extended key usages (``KIND_EKU``, one
  OID per ``DocumentKind``; the test CA in ``oracles.testing_pki`` issues them), or
* the deployment grants them in ``issuers.toml`` in the trust store folder, matching the leaf
  by subject, subject-alternative name or SHA-256 fingerprint. This is how certificates from a
  third-party CA that knows nothing of Tierchain's OIDs are admitted::

      [[issuer]]
      name = "Acme Logistics delivery platform"
      subject = "CN=Acme Logistics Signing,O=Acme Logistics Ltd,C=CN"   # RFC 4514
      kinds = ["delivery_note"]

      [[issuer]]
      name = "Golden Tax e-invoice service"
      fingerprint = "9f86d081884c7d65...b0f00a08"                      # SHA-256 of the DER
      kinds = ["invoice"]

A leaf's kinds are the union of both. A leaf granted nothing signs nothing: authority is never
assumed from trust alone.

The OIDs sit under ``2.25`` (ITU-T X.667: an OID derived from a UUID, which needs no
registration), arc ``<uuid>.1.<kind number>``.
"""

import logging
import tomllib
from pathlib import Path
from typing import Annotated

from cryptography import x509
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.x509.oid import ExtensionOID
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from oracles.documents import DocumentKind, coerce_kind
from oracles.errors import TrustStoreError

logger = logging.getLogger(__name__)

TIERCHAIN_OID_ARC = "2.25.153124178024615498491253713361746107686"
KIND_EKU: dict[DocumentKind, x509.ObjectIdentifier] = {
    kind: x509.ObjectIdentifier(f"{TIERCHAIN_OID_ARC}.1.{kind.value}") for kind in DocumentKind
}
_KIND_OF_EKU = {oid: kind for kind, oid in KIND_EKU.items()}
ISSUERS_FILE = "issuers.toml"

KIND_PLURAL: dict[DocumentKind, str] = {
    DocumentKind.INVOICE: "invoices",
    DocumentKind.PURCHASE_ORDER: "purchase orders",
    DocumentKind.DELIVERY_NOTE: "delivery notes",
    DocumentKind.WAREHOUSE_RECEIPT: "warehouse receipts",
}


def _fingerprint_hex(value: object) -> object:
    if isinstance(value, str):
        return value.replace(":", "").strip().lower().removeprefix("0x")
    return value


class IssuerRule(BaseModel):
    """One ``[[issuer]]`` table: a way to recognise a leaf certificate, and the kinds it may sign."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    subject: str | None = None
    san: str | None = None
    fingerprint: Annotated[
        str | None, BeforeValidator(_fingerprint_hex), Field(pattern=r"^[0-9a-f]{64}$")
    ] = None
    kinds: Annotated[list[Annotated[DocumentKind, BeforeValidator(coerce_kind)]], Field(min_length=1)]

    @model_validator(mode="after")
    def _one_matcher(self) -> "IssuerRule":
        given = [m for m in (self.subject, self.san, self.fingerprint) if m is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of subject, san or fingerprint")
        return self

    def matches(self, leaf: x509.Certificate, fingerprint: str, names: frozenset[str]) -> bool:
        if self.fingerprint is not None:
            return self.fingerprint == fingerprint
        if self.san is not None:
            return self.san in names
        return leaf.subject.rfc4514_string() == self.subject


class _IssuersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    issuer: list[IssuerRule] = []


def _alt_names(leaf: x509.Certificate) -> frozenset[str]:
    try:
        san = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return frozenset()
    if not isinstance(san, x509.SubjectAlternativeName):
        return frozenset()
    return frozenset(str(name.value) for name in san if isinstance(name.value, str))


def eku_kinds(leaf: x509.Certificate) -> frozenset[DocumentKind]:
    """The kinds a leaf's CA granted it through Tierchain's extended key usages."""
    try:
        usage = leaf.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value
    except x509.ExtensionNotFound:
        return frozenset()
    if not isinstance(usage, x509.ExtendedKeyUsage):
        return frozenset()
    return frozenset(_KIND_OF_EKU[oid] for oid in usage if oid in _KIND_OF_EKU)


class IssuerAuthority:
    """The deployment's grants on top of the certificates' own; answers per leaf, cached."""

    def __init__(self, rules: list[IssuerRule] | None = None) -> None:
        self.rules = list(rules or [])
        self._cache: dict[bytes, frozenset[DocumentKind]] = {}

    @classmethod
    def from_file(cls, path: Path) -> "IssuerAuthority":
        """Read ``issuers.toml``; a missing file grants nothing beyond the certificates' EKUs."""
        if not path.is_file():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            parsed = _IssuersFile.model_validate(data)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise TrustStoreError(f"cannot read {path}: {exc}") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise TrustStoreError(f"{path}: {where}: {first['msg']}") from exc
        logger.info("issuer_authority_loaded path=%s rules=%d", path, len(parsed.issuer))
        return cls(parsed.issuer)

    def kinds_for(self, leaf: x509.Certificate) -> frozenset[DocumentKind]:
        """Every kind ``leaf`` may sign: its EKUs plus every matching rule."""
        der_fingerprint = leaf.fingerprint(SHA256())
        cached = self._cache.get(der_fingerprint)
        if cached is not None:
            return cached
        kinds = set(eku_kinds(leaf))
        if self.rules:
            names = _alt_names(leaf)
            fp = der_fingerprint.hex()
            for rule in self.rules:
                if rule.matches(leaf, fp, names):
                    kinds.update(rule.kinds)
        result = frozenset(kinds)
        self._cache[der_fingerprint] = result
        return result


def describe_kinds(kinds: frozenset[DocumentKind] | set[DocumentKind]) -> str:
    """'invoices and purchase orders', in DocumentKind order."""
    names = [KIND_PLURAL[k] for k in sorted(kinds)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
