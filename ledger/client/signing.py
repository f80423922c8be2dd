"""EIP-712 signatures the contracts verify: oracle attestations, an obligor's confirmation and a
supplier's consent to a direct issue.

The type strings here must equal the contracts' typehashes byte for byte; the tests check each digest
against the contract's own `attestationDigest` / `confirmationDigest` / `supplierConsentDigest`.
"""

from __future__ import annotations

from typing import Any

from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from ledger.client.models import Attestation, Terms
from ledger.keys import Signer

ATTESTATION_TYPES = {
    "Attestation": [
        {"name": "fingerprint", "type": "bytes32"},
        {"name": "kind", "type": "uint8"},
        {"name": "seller", "type": "address"},
        {"name": "buyer", "type": "address"},
        {"name": "amount", "type": "uint256"},
        {"name": "currency", "type": "bytes3"},
        {"name": "issueDate", "type": "uint64"},
        {"name": "dueDate", "type": "uint64"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint64"},
    ]
}
CONFIRMATION_TYPES = {
    "Confirmation": [
        {"name": "proposalId", "type": "uint256"},
        {"name": "termsHash", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
SUPPLIER_CONSENT_TYPES = {
    "SupplierConsent": [
        {"name": "termsHash", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
TRADE_REGISTRY_DOMAIN = ("Tierchain TradeRegistry", "1")
ISSUANCE_DESK_DOMAIN = ("Tierchain IssuanceDesk", "1")

_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def _typed(
    domain: tuple[str, str], chain_id: int, contract: str, types: dict[str, Any], message: dict[str, Any]
) -> dict[str, Any]:
    (primary,) = types
    return {
        "types": {"EIP712Domain": _DOMAIN_TYPE, **types},
        "primaryType": primary,
        "domain": {
            "name": domain[0],
            "version": domain[1],
            "chainId": chain_id,
            "verifyingContract": contract,
        },
        "message": message,
    }


def _digest(data: dict[str, Any]) -> bytes:
    """The EIP-712 digest of typed `data`, as the contracts' `_hashTypedDataV4` computes it."""
    signable = encode_typed_data(full_message=data)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def _sign(signer: Signer, data: dict[str, Any]) -> bytes:
    """`signer`'s 65-byte signature over typed `data`."""
    return bytes(signer.sign_message(encode_typed_data(full_message=data)).signature)


def _attestation_data(attestation: Attestation, chain_id: int, trade_registry: str) -> dict[str, Any]:
    return _typed(
        TRADE_REGISTRY_DOMAIN, chain_id, trade_registry, ATTESTATION_TYPES, attestation.as_message()
    )


def _supplier_consent_data(
    terms: Terms, nonce: int, deadline: int, chain_id: int, issuance_desk: str
) -> dict[str, Any]:
    message = {"termsHash": terms.hash(), "nonce": nonce, "deadline": deadline}
    return _typed(ISSUANCE_DESK_DOMAIN, chain_id, issuance_desk, SUPPLIER_CONSENT_TYPES, message)


def attestation_digest(attestation: Attestation, *, chain_id: int, trade_registry: str) -> bytes:
    return _digest(_attestation_data(attestation, chain_id, trade_registry))


def sign_attestation(
    oracle: Signer, attestation: Attestation, *, chain_id: int, trade_registry: str
) -> bytes:
    """An oracle's 65-byte signature over `attestation` for the TradeRegistry at `trade_registry`."""
    return _sign(oracle, _attestation_data(attestation, chain_id, trade_registry))


def sign_confirmation(
    obligor: Signer,
    proposal_id: int,
    terms: Terms,
    *,
    nonce: int,
    deadline: int,
    chain_id: int,
    issuance_desk: str,
) -> bytes:
    """The obligor's signature confirming `proposal_id`; `nonce` must be `IssuanceDesk.nonces(obligor)`."""
    message = {"proposalId": proposal_id, "termsHash": terms.hash(), "nonce": nonce, "deadline": deadline}
    return _sign(obligor, _typed(ISSUANCE_DESK_DOMAIN, chain_id, issuance_desk, CONFIRMATION_TYPES, message))


def supplier_consent_digest(
    terms: Terms, *, nonce: int, deadline: int, chain_id: int, issuance_desk: str
) -> bytes:
    return _digest(_supplier_consent_data(terms, nonce, deadline, chain_id, issuance_desk))


def sign_supplier_consent(
    supplier: Signer,
    terms: Terms,
    *,
    nonce: int,
    deadline: int,
    chain_id: int,
    issuance_desk: str,
) -> bytes:
    """The supplier's consent to the obligor issuing exactly `terms` in one step (`IssuanceDesk.issueDirect`).

    Without it the obligor cannot consume the supplier's documents; `nonce` must be
    `IssuanceDesk.nonces(supplier)` (one sequence per account, shared with confirmations).
    """
    return _sign(supplier, _supplier_consent_data(terms, nonce, deadline, chain_id, issuance_desk))
