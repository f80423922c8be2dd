"""The EIP-712 attestation: exact contract types, deterministic nonce, signature recovery."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak
from pydantic import ValidationError

from oracles.attestation import (
    ATTESTATION_TYPE,
    ZERO_ADDRESS,
    AttestationMessage,
    Eip712Domain,
    attestation_digest,
    attestation_nonce,
    recover_attestation_signer,
    sign_attestation,
    typed_data,
    unix_midnight,
)
from oracles.canonical import fingerprint
from oracles.documents import WarehouseReceipt

DOMAIN = Eip712Domain(chain_id=31337, verifying_contract="0x5fbdb2315678afecb367f032d93f642f64180aa3")
SELLER = "0x1111111111111111111111111111111111111111"
BUYER = "0x2222222222222222222222222222222222222222"
CONTRACT_TYPE = (
    "Attestation(bytes32 fingerprint,uint8 kind,address seller,address buyer,uint256 amount,bytes3 currency,"
    "uint64 issueDate,uint64 dueDate,uint256 nonce,uint64 deadline)"
)


@pytest.fixture
def message(make_invoice: Callable[..., Any]) -> AttestationMessage:
    return AttestationMessage.from_verified(make_invoice(), SELLER, BUYER, deadline=1_800_000_000)


def test_message_fields_follow_the_contract(
    message: AttestationMessage, make_invoice: Callable[..., Any]
) -> None:
    assert ATTESTATION_TYPE == CONTRACT_TYPE
    invoice = make_invoice()
    assert message.fingerprint == fingerprint(invoice)
    assert message.kind == 1
    assert message.amount == 113_000_00
    assert message.issue_date == 1772323200 == unix_midnight(date(2026, 3, 1))
    assert message.due_date == unix_midnight(date(2026, 6, 1))
    assert message.nonce == int.from_bytes(
        keccak(b"tierchain.attestation" + bytes.fromhex(message.fingerprint[2:]))
    )
    assert typed_data(message, DOMAIN)["message"]["currency"] == b"CNY"
    assert typed_data(message, DOMAIN)["domain"]["name"] == "Tierchain TradeRegistry"


def test_same_document_same_message_on_every_node(make_invoice: Callable[..., Any]) -> None:
    reprinted = make_invoice(invoice_number="12345", seller_tax_id="9131-0000-ma1fl0xx1x")
    one = AttestationMessage.from_verified(make_invoice(), SELLER, BUYER, 1)
    two = AttestationMessage.from_verified(reprinted, SELLER.upper().replace("0X", "0x"), BUYER, 1)
    assert one == two
    assert attestation_nonce(one.fingerprint) == one.nonce


def test_signature_recovers_to_the_oracle(message: AttestationMessage) -> None:
    oracle = Account.create()
    signature = sign_attestation(message, DOMAIN, oracle)
    assert len(bytes.fromhex(signature[2:])) == 65
    assert recover_attestation_signer(message, DOMAIN, signature) == oracle.address
    other = message.model_copy(update={"amount": message.amount + 1})
    assert recover_attestation_signer(other, DOMAIN, signature) != oracle.address
    other_chain = Eip712Domain(chain_id=1, verifying_contract=DOMAIN.verifying_contract)
    assert recover_attestation_signer(message, other_chain, signature) != oracle.address


def test_solidity_style_digest_matches_eth_account(message: AttestationMessage) -> None:
    signable = encode_typed_data(full_message=typed_data(message, DOMAIN))
    eth_account_digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert attestation_digest(message, DOMAIN) == eth_account_digest
    oracle = Account.create()
    raw = Account.unsafe_sign_hash(attestation_digest(message, DOMAIN), oracle.key)
    assert "0x" + bytes(raw.signature).hex() == sign_attestation(message, DOMAIN, oracle)


def test_receipt_without_buyer_or_due_date() -> None:
    receipt = WarehouseReceipt(
        receipt_number="WR-7",
        warehouse_id="SH-WH-01",
        depositor_tax_id="91310000MA1FL0XX1X",
        goods_description_hash="cd" * 32,
        quantity="2,500",
        amount="88,000.00",
        currency="CNY",
        issue_date="2026-03-02",
    )
    message = AttestationMessage.from_verified(receipt, SELLER, None, 5)
    assert (message.kind, message.buyer, message.due_date, message.amount) == (4, ZERO_ADDRESS, 0, 88_000_00)


def test_message_bounds(message: AttestationMessage) -> None:
    with pytest.raises(ValidationError):
        message.model_validate({**message.model_dump(), "deadline": 2**64})
    with pytest.raises(ValidationError):
        message.model_validate({**message.model_dump(), "seller": "0x123"})
    with pytest.raises(ValidationError):
        message.model_validate({**message.model_dump(), "amount": 0})
