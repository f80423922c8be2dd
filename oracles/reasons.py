"""Why an oracle refuses a document, in a form both machines and people can use.

Every refusal carries a stable ``ReasonCode`` (the API and the dashboard branch on it, so the
values never change meaning), the field that caused it when there is one, and a sentence that
tells the sender what to fix. ``Verdict`` is what an oracle node concludes about one document.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ReasonCode(StrEnum):
    """Machine-readable refusal reasons; values are part of the public API."""

    MALFORMED = "MALFORMED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    CERT_EXPIRED = "CERT_EXPIRED"
    CERT_NOT_YET_VALID = "CERT_NOT_YET_VALID"
    CERT_UNTRUSTED = "CERT_UNTRUSTED"
    CERT_REVOKED = "CERT_REVOKED"
    CRL_STALE = "CRL_STALE"
    ISSUER_NOT_AUTHORIZED = "ISSUER_NOT_AUTHORIZED"
    UNKNOWN_SELLER = "UNKNOWN_SELLER"
    UNKNOWN_BUYER = "UNKNOWN_BUYER"
    PARTICIPANT_INACTIVE = "PARTICIPANT_INACTIVE"
    WRONG_ROLE = "WRONG_ROLE"
    BUYER_NOT_OBLIGOR = "BUYER_NOT_OBLIGOR"
    AMOUNT_NOT_POSITIVE = "AMOUNT_NOT_POSITIVE"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    CURRENCY_UNSUPPORTED = "CURRENCY_UNSUPPORTED"
    DATE_IMPLAUSIBLE = "DATE_IMPLAUSIBLE"
    DELIVERY_MISMATCH = "DELIVERY_MISMATCH"
    ALREADY_ATTESTED = "ALREADY_ATTESTED"
    # The aggregator's, not a node's: the chain refused an attestation the nodes had signed.
    ATTESTATION_FAILED = "ATTESTATION_FAILED"


class Refusal(BaseModel):
    """One reason a document cannot be attested."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: ReasonCode
    field: str | None = None
    message: str


class Verdict(BaseModel):
    """An oracle's conclusion about one signed document.

    The fingerprint and content hash are filled in even when the document is refused, so a
    refusal can be logged and looked up by the same keys as an attestation. The parties'
    registered addresses are carried along because the attestation needs them next.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    ok: bool
    fingerprint: str
    content_hash: str
    refusals: tuple[Refusal, ...] = ()
    seller_address: str | None = None
    buyer_address: str | None = None

    def codes(self) -> set[ReasonCode]:
        """The set of refusal codes, handy for routing and for tests."""
        return {r.code for r in self.refusals}
