"""Decide whether an issuer's certificate chain is trusted at a given moment.

A deployment trusts a folder of root CA certificates (PEM) and publishes CRLs (PEM) next to
them. A chain (leaf first, intermediates after, the root optional) is accepted when every
certificate is within its validity window at the verification time, each one's signature was
made by the next (``verify_directly_issued_by``), every issuer is a CA per basicConstraints
(and may sign certificates per keyUsage when present, within its pathLenConstraint), the last
one is a trusted root or issued by one, the leaf may make digital signatures when keyUsage is
present, and no certificate's serial is on a CRL whose signature verifies under its issuer.

Why not ``cryptography.x509.verification``: its ``PolicyBuilder`` implements the Web PKI
profile. The server verifier needs a DNS/IP name; the client verifier works only after swapping
in ``ExtensionPolicy.permit_all()`` for leaves (our issuer certificates carry no AKI/SAN/EKU),
it refuses CAs that sign with Ed25519 (checked against cryptography 50), and it does no
revocation checking at all. We need CRLs and want every failure mapped onto one refusal code,
so the walk is done here from primitive checks. Parsed certificates are cached by PEM text
because every document from one issuer carries the same chain, and so are the time-independent
verdicts on it (a link's signature, a CRL's signature under its issuer), which are pure functions
of immutable DER bytes.

A CRL is stale once the verification time passes its ``next_update`` (plus ``crl_grace``, zero
by default): the CA promised a newer list by then, so an old one could be hiding a revocation and
verification is refused with ``CRL_STALE`` until the deployment publishes a fresh list. Among
several lists from one CA the freshest decides staleness; revocations are read from all of them.
A CA with no list in the store is not checked for revocation (the deployment chose not to).

Trust says who signed; ``oracles.authority`` says which document kinds that signer may sign.
"""

import itertools
import logging
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.x509.oid import ExtensionOID

from oracles.authority import ISSUERS_FILE, IssuerAuthority
from oracles.errors import TrustStoreError
from oracles.reasons import ReasonCode, Refusal

logger = logging.getLogger(__name__)
_SHA256 = SHA256()
_STRUCTURE_CACHE = 4096


class ChainRefused(Exception):
    """Internal signal carrying the refusal that ends a chain walk."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def _refuse(code: ReasonCode, message: str) -> ChainRefused:
    return ChainRefused(Refusal(code=code, field="certificate_chain", message=message))


@lru_cache(maxsize=4096)
def load_certificate(pem: str) -> x509.Certificate:
    """Parse one PEM certificate; cached because issuers reuse the same chain for every document."""
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


class TrustStore:
    """The roots and CRLs one deployment trusts."""

    def __init__(
        self,
        roots: list[x509.Certificate],
        crls: list[x509.CertificateRevocationList],
        authority: IssuerAuthority | None = None,
        *,
        crl_grace: timedelta = timedelta(0),
    ) -> None:
        if not roots:
            raise TrustStoreError("a trust store needs at least one root certificate")
        self.roots = roots
        self.crls = crls
        self.authority = authority or IssuerAuthority()
        self.crl_grace = crl_grace
        self._root_fingerprints = {root.fingerprint(_SHA256) for root in roots}
        self._crl_signed_by: dict[tuple[int, bytes], bool] = {}
        self._structures: dict[tuple[str, ...], list[x509.Certificate] | Refusal] = {}

    @classmethod
    def from_folder(cls, folder: Path, *, crl_grace: timedelta = timedelta(0)) -> "TrustStore":
        """Load every PEM in ``folder`` (certificates become roots, CRLs revocation lists) and
        ``issuers.toml``, the deployment's grants of document kinds to issuers."""
        if not folder.is_dir():
            raise TrustStoreError(f"trust store folder {folder} does not exist")
        roots: list[x509.Certificate] = []
        crls: list[x509.CertificateRevocationList] = []
        for path in sorted(folder.iterdir()):
            if path.suffix not in {".pem", ".crt", ".crl"}:
                continue
            data = path.read_bytes()
            try:
                if b"BEGIN X509 CRL" in data:
                    crls.append(x509.load_pem_x509_crl(data))
                else:
                    roots.extend(x509.load_pem_x509_certificates(data))
            except ValueError as exc:
                raise TrustStoreError(f"cannot read {path}: {exc}") from exc
        authority = IssuerAuthority.from_file(folder / ISSUERS_FILE)
        logger.info(
            "trust_store_loaded folder=%s roots=%d crls=%d issuer_rules=%d",
            folder, len(roots), len(crls), len(authority.rules),
        )  # fmt: skip
        return cls(roots, crls, authority, crl_grace=crl_grace)

    def validate_chain(self, chain_pems: list[str], at: datetime) -> x509.Certificate:
        """Return the leaf certificate if the chain is trusted at ``at``; else raise ChainRefused."""
        chain = self._structure(tuple(chain_pems))
        for cert in chain:
            _check_validity(cert, at)
        for child, parent in itertools.pairwise(chain):
            self._check_not_revoked(child, parent, at)
        return chain[0]

    def _structure(self, chain_pems: tuple[str, ...]) -> list[x509.Certificate]:
        """The chain completed to a trusted root, its links and usages checked: everything about a
        chain that does not depend on the time, so it is decided once per distinct chain."""
        known = self._structures.get(chain_pems)
        if known is None:
            try:
                known = self._check_structure(chain_pems)
            except ChainRefused as refused:
                known = refused.refusal
            if len(self._structures) >= _STRUCTURE_CACHE:
                self._structures.clear()
            self._structures[chain_pems] = known
        if isinstance(known, Refusal):
            raise ChainRefused(known)
        return known

    def _check_structure(self, chain_pems: tuple[str, ...]) -> list[x509.Certificate]:
        try:
            chain = [load_certificate(pem) for pem in chain_pems]
        except ValueError as exc:
            raise ChainRefused(
                Refusal(
                    code=ReasonCode.MALFORMED, field="certificate_chain", message=f"unreadable PEM: {exc}"
                )
            ) from exc
        if not chain:
            raise _refuse(ReasonCode.CERT_UNTRUSTED, "the certificate chain is empty")
        if chain[-1].fingerprint(_SHA256) not in self._root_fingerprints:
            chain.append(self._find_root(chain[-1]))
        for depth, (child, parent) in enumerate(itertools.pairwise(chain)):
            _check_issued_by(child, parent, depth)
        _check_leaf_usage(chain[0])
        return chain

    def _find_root(self, cert: x509.Certificate) -> x509.Certificate:
        for root in self.roots:
            if root.subject == cert.issuer:
                try:
                    cert.verify_directly_issued_by(root)
                except (ValueError, TypeError, InvalidSignature):
                    continue
                return root
        raise _refuse(
            ReasonCode.CERT_UNTRUSTED,
            f"the chain ends at {cert.issuer.rfc4514_string()!r}, "
            "which is not a trusted root of this deployment",
        )

    def _crl_is_from(self, index: int, crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
        key = (index, issuer.fingerprint(_SHA256))
        known = self._crl_signed_by.get(key)
        if known is None:
            known = crl.issuer == issuer.subject and crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
            self._crl_signed_by[key] = known
        return known

    def _check_not_revoked(self, cert: x509.Certificate, issuer: x509.Certificate, at: datetime) -> None:
        lists = [
            crl
            for index, crl in enumerate(self.crls)
            if crl.issuer == cert.issuer and self._crl_is_from(index, crl, issuer)
        ]
        for crl in lists:
            entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if entry is not None and entry.revocation_date_utc <= at:
                raise _refuse(
                    ReasonCode.CERT_REVOKED,
                    f"certificate {_subject(cert)!r} (serial {cert.serial_number:x}) was revoked on "
                    f"{entry.revocation_date_utc.date().isoformat()}; ask for a fresh signature",
                )
        if not lists:
            return
        freshest = max(lists, key=lambda crl: crl.last_update_utc)
        due = freshest.next_update_utc
        if due is not None and at > due + self.crl_grace:
            raise _refuse(
                ReasonCode.CRL_STALE,
                f"the revocation list of {_subject(issuer)!r} was due for renewal on {due.isoformat()} and "
                "this deployment holds no newer one, so revocation of "
                f"{_subject(cert)!r} cannot be ruled out; the operator must publish the CA's current CRL "
                "in the trust store, then resubmit",
            )


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _check_validity(cert: x509.Certificate, at: datetime) -> None:
    if at < cert.not_valid_before_utc:
        raise _refuse(
            ReasonCode.CERT_NOT_YET_VALID,
            f"certificate {_subject(cert)!r} is only valid from {cert.not_valid_before_utc.isoformat()}",
        )
    if at > cert.not_valid_after_utc:
        raise _refuse(
            ReasonCode.CERT_EXPIRED,
            f"certificate {_subject(cert)!r} expired on {cert.not_valid_after_utc.isoformat()}",
        )


def _check_leaf_usage(leaf: x509.Certificate) -> None:
    try:
        usage = leaf.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
    except x509.ExtensionNotFound:
        return
    if isinstance(usage, x509.KeyUsage) and not usage.digital_signature:
        raise _refuse(ReasonCode.CERT_UNTRUSTED, f"certificate {_subject(leaf)!r} may not sign documents")


def _check_issued_by(child: x509.Certificate, parent: x509.Certificate, depth: int) -> None:
    try:
        constraints = parent.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
    except x509.ExtensionNotFound:
        constraints = None
    if not isinstance(constraints, x509.BasicConstraints) or not constraints.ca:
        raise _refuse(ReasonCode.CERT_UNTRUSTED, f"{_subject(parent)!r} is not a certificate authority")
    if constraints.path_length is not None and depth > constraints.path_length:
        raise _refuse(ReasonCode.CERT_UNTRUSTED, f"{_subject(parent)!r} exceeds its path length constraint")
    try:
        usage = parent.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
        if isinstance(usage, x509.KeyUsage) and not usage.key_cert_sign:
            raise _refuse(ReasonCode.CERT_UNTRUSTED, f"{_subject(parent)!r} may not sign certificates")
    except x509.ExtensionNotFound:
        pass
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise _refuse(
            ReasonCode.CERT_UNTRUSTED,
            f"certificate {_subject(child)!r} was not signed by {_subject(parent)!r}",
        ) from exc
