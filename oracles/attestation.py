"""The EIP-712 attestation an oracle signs for the TradeRegistry contract.

The struct and domain below are the contract's, field for field; changing either makes every
signature unrecoverable on-chain. All oracles must sign the *same* message for a quorum to
form, so nothing in it may depend on the node: the nonce is derived from the fingerprint
(one document, one nonce) and the deadline is chosen by whoever coordinates the quorum.
``attestation_digest`` computes the hash the way Solidity does (typehash + abi.encode); nodes sign
it and the aggregator recovers from it directly, and tests prove it equal to eth-account's
typed-data encoding (``typed_data`` is still what a wallet would be handed).
"""

from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Annotated, Any

import coincurve
from eth_abi.abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey, Signature
from eth_keys.exceptions import BadSignature
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError as KeyValidationError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ledger.client.signing import ATTESTATION_TYPES
from oracles.canonical import fingerprint as document_fingerprint
from oracles.documents import DocumentKind, TradeDocument, document_date, due_date, face_amount
from oracles.normalize import normalize_hash32

DOMAIN_NAME = "Tierchain TradeRegistry"
DOMAIN_VERSION = "1"
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
# The struct is the contract's; the chain client owns its EIP-712 definition.
ATTESTATION_FIELDS: list[dict[str, str]] = ATTESTATION_TYPES["Attestation"]
ATTESTATION_TYPE = "Attestation(" + ",".join(f"{f['type']} {f['name']}" for f in ATTESTATION_FIELDS) + ")"
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
_UINT64 = 2**64 - 1
_SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


@lru_cache(maxsize=4096)
def checksum_address(address: str) -> str:
    """EIP-55 spelling of an address, memoized: a batch names the same few parties and oracles
    thousands of times, and each spelling costs a keccak. Anything but an address raises."""
    return str(to_checksum_address(address))


@lru_cache(maxsize=256)
def _address_of_public_key(public_key: bytes) -> str:
    """The checksummed address of a 64-byte public key (a keccak and a checksum, memoized)."""
    return checksum_address("0x" + keccak(public_key)[-20:].hex())


Address = Annotated[str, AfterValidator(checksum_address)]
Uint64 = Annotated[int, Field(ge=0, le=_UINT64)]


def unix_midnight(day: date) -> int:
    """Unix seconds at 00:00 UTC of a calendar day, the contract's date unit."""
    return int(datetime.combine(day, time(0), tzinfo=UTC).timestamp())


def attestation_nonce(fingerprint: str) -> int:
    """Same document, same nonce, on every oracle node."""
    return int.from_bytes(keccak(b"tierchain.attestation" + bytes.fromhex(fingerprint[2:])), "big")


class Eip712Domain(BaseModel):
    """Which deployment of the TradeRegistry a signature is for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chain_id: int = Field(gt=0)
    verifying_contract: Address

    def as_typed_data(self) -> dict[str, Any]:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


class AttestationMessage(BaseModel):
    """The ``Attestation`` struct, with the contract's field names in ``as_typed_data``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fingerprint: Annotated[str, AfterValidator(normalize_hash32)]
    kind: DocumentKind
    seller: Address
    buyer: Address
    amount: int = Field(gt=0, lt=2**256)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    issue_date: Uint64
    due_date: Uint64
    nonce: int = Field(ge=0, lt=2**256)
    deadline: Uint64

    @classmethod
    def from_verified(
        cls,
        document: TradeDocument,
        seller_address: str,
        buyer_address: str | None,
        deadline: int,
        *,
        fingerprint: str | None = None,
    ) -> "AttestationMessage":
        """Build the message for a document that passed ``verify_document``.

        A warehouse receipt has no buyer; pass ``None`` and the zero address is attested.
        ``fingerprint`` is the document's, when the caller has just computed it (the verdict
        carries it); it is computed here otherwise.
        """
        fp = fingerprint or document_fingerprint(document)
        due = due_date(document)
        return cls(
            fingerprint=fp,
            kind=document.kind,
            seller=seller_address,
            buyer=buyer_address or ZERO_ADDRESS,
            amount=face_amount(document),
            currency=document.currency,
            issue_date=unix_midnight(document_date(document)),
            due_date=unix_midnight(due) if due is not None else 0,
            nonce=attestation_nonce(fp),
            deadline=deadline,
        )

    def as_typed_data(self) -> dict[str, Any]:
        return {
            "fingerprint": bytes.fromhex(self.fingerprint[2:]),
            "kind": int(self.kind),
            "seller": self.seller,
            "buyer": self.buyer,
            "amount": self.amount,
            "currency": self.currency.encode("ascii"),
            "issueDate": self.issue_date,
            "dueDate": self.due_date,
            "nonce": self.nonce,
            "deadline": self.deadline,
        }


def typed_data(message: AttestationMessage, domain: Eip712Domain) -> dict[str, Any]:
    """Full EIP-712 JSON (as wallets and ``eth_signTypedData_v4`` take it)."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Attestation": ATTESTATION_FIELDS,
        },
        "primaryType": "Attestation",
        "domain": domain.as_typed_data(),
        "message": message.as_typed_data(),
    }


def sign_attestation(
    message: AttestationMessage,
    domain: Eip712Domain,
    account: LocalAccount | PrivateKey | coincurve.PrivateKey,
) -> str:
    """65-byte r||s||v signature as 0x-hex, what the contract's ECDSA.recover takes.

    Signs ``attestation_digest`` directly: the same bytes eth-account's typed-data encoder hashes
    (a test holds the two equal), at a tenth of the cost, which matters at thousands per batch. A
    node passes its key as a ``coincurve.PrivateKey`` (see ``attestation_key``): eth-keys builds a
    new libsecp256k1 key, public half included, for every signature it makes. Both sign with
    RFC 6979 nonces and low ``s``, so the bytes are the same whichever key type is passed.
    """
    digest = attestation_digest(message, domain)
    if isinstance(account, coincurve.PrivateKey):
        raw = account.sign_recoverable(digest, hasher=None)
    else:
        key = account if isinstance(account, PrivateKey) else PrivateKey(account.key)
        raw = key.sign_msg_hash(digest).to_bytes()
    # r || s || v with v in {0, 1}; the contract wants 27 or 28
    return "0x" + (raw[:64] + bytes([raw[64] + 27])).hex()


def attestation_key(account: LocalAccount) -> coincurve.PrivateKey:
    """The account's key in the form ``sign_attestation`` signs with fastest; build it once."""
    return coincurve.PrivateKey(bytes(account.key))


def recover_attestation_signer(message: AttestationMessage, domain: Eip712Domain, signature: str) -> str:
    """Checksummed address that produced ``signature`` over this message.

    Raises ``ValueError`` for anything the contract's ``ECDSA.recover`` would reject: not 65
    bytes, ``v`` not 27/28 (or 0/1), ``s`` in the upper half of the curve order, or no key.
    """
    raw = bytes.fromhex(signature.removeprefix("0x"))
    if len(raw) != 65:
        raise ValueError(f"a signature is 65 bytes, not {len(raw)}")
    v = raw[64] - 27 if raw[64] >= 27 else raw[64]
    if v not in (0, 1) or int.from_bytes(raw[32:64], "big") > _SECP256K1_HALF_N:
        raise ValueError("signature v or s is out of range")
    try:
        public_key = Signature(raw[:64] + bytes([v])).recover_public_key_from_msg_hash(
            attestation_digest(message, domain)
        )
    except (BadSignature, KeyValidationError) as exc:
        raise ValueError(f"signature does not recover: {exc}") from exc
    # The key is recovered from every signature; only the address it maps to is memoized.
    return _address_of_public_key(public_key.to_bytes())


@lru_cache(maxsize=64)
def _domain_separator(chain_id: int, verifying_contract: str) -> bytes:
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                keccak(DOMAIN_TYPE.encode()),
                keccak(DOMAIN_NAME.encode()),
                keccak(DOMAIN_VERSION.encode()),
                chain_id,
                verifying_contract,
            ],
        )
    )


_ATTESTATION_TYPEHASH = keccak(ATTESTATION_TYPE.encode())
_STRUCT_TYPES = ["bytes32"] + [f["type"] for f in ATTESTATION_FIELDS]


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")  # OverflowError for anything outside uint256


def _address_word(address: str) -> bytes:
    raw = bytes.fromhex(address.removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError(f"{address!r} is not a 20-byte address")
    return bytes(12) + raw


def _struct_encoding(message: AttestationMessage) -> bytes:
    """``abi.encode(TYPEHASH, a.fingerprint, ...)``: every field is static, one 32-byte word each.

    Written out by hand because eth_abi's encoder costs more than the signature it feeds, for
    every node's signature and every recovery of it; ``struct_encoding_matches_eth_abi`` in the
    tests holds the two equal. The message's validators bound every value to its Solidity type.
    """
    fingerprint = bytes.fromhex(message.fingerprint[2:])
    currency = message.currency.encode("ascii")
    if len(fingerprint) != 32 or len(currency) != 3:
        raise ValueError("an attestation's fingerprint is 32 bytes and its currency 3")
    return b"".join(
        (
            _ATTESTATION_TYPEHASH,
            fingerprint,
            _word(int(message.kind)),
            _address_word(message.seller),
            _address_word(message.buyer),
            _word(message.amount),
            currency + bytes(29),
            _word(message.issue_date),
            _word(message.due_date),
            _word(message.nonce),
            _word(message.deadline),
        )
    )


def attestation_digest(message: AttestationMessage, domain: Eip712Domain) -> bytes:
    """The digest as the contract computes it: keccak(0x1901 || domainSeparator || structHash)."""
    struct_hash = keccak(_struct_encoding(message))
    separator = _domain_separator(domain.chain_id, domain.verifying_contract)
    return keccak(b"\x19\x01" + separator + struct_hash)
