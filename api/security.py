"""Who is calling: API keys (stored as hashes only), wallet-signed requests (EIP-712), the operator.

An API key is `tc_<key_id>_<secret>`: the id finds the row, the sha256 of the 32-byte secret is what
is stored and compared. A wallet-signed request carries the caller's address, a nonce and a deadline
and an EIP-712 signature over `Request(method, path, bodyHash, nonce, deadline)`; the nonce is
single-use (stored), the deadline at most `signature_max_deadline_seconds` ahead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from api.errors import NonceReplayed, Unauthorized
from api.tables import api_keys, request_nonces

KEY_PREFIX = "tc_"
API_DOMAIN_NAME = "Tierchain API"
API_DOMAIN_VERSION = "1"
REQUEST_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
    ],
    "Request": [
        {"name": "method", "type": "string"},
        {"name": "path", "type": "string"},
        {"name": "bodyHash", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
}


class Role(StrEnum):
    CORE_ENTERPRISE = "CORE_ENTERPRISE"
    SUPPLIER = "SUPPLIER"
    BANK = "BANK"
    REGULATOR = "REGULATOR"
    ORACLE = "ORACLE"
    OPERATOR = "OPERATOR"


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. `address` is lower-case hex, like the indexer's tables."""

    address: str
    roles: frozenset[str]
    status: str
    scopes: frozenset[str]
    via: str  # "api_key", "signature" or "operator"
    key_id: str | None = None

    @property
    def rate_key(self) -> str:
        return self.key_id or f"{self.via}:{self.address}"

    @property
    def is_operator(self) -> bool:
        return Role.OPERATOR in self.roles

    @property
    def sees_everything(self) -> bool:
        """Regulators and the operator read every record."""
        return bool(self.roles & {Role.REGULATOR, Role.OPERATOR})

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


# ------------------------------------------------------------------------------------------ API keys


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def issue_api_key(engine: Engine, address: str, scopes: list[str]) -> tuple[str, str]:
    """Create a key for `address`; returns (key_id, the full key). The key is shown once, never stored."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_bytes(32).hex()
    with engine.begin() as conn:
        conn.execute(
            insert(api_keys).values(
                key_id=key_id,
                address=address.lower(),
                secret_hash=_hash(secret),
                scopes=sorted(set(scopes)),
                created_at=datetime.now(UTC),
                revoked_at=None,
            )
        )
    return key_id, f"{KEY_PREFIX}{key_id}_{secret}"


def revoke_api_key(engine: Engine, address: str, key_id: str) -> bool:
    with engine.begin() as conn:
        done = conn.execute(
            update(api_keys)
            .where(api_keys.c.key_id == key_id, api_keys.c.address == address.lower())
            .where(api_keys.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    return bool(done.rowcount)


def list_api_keys(engine: Engine, address: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(api_keys.c.key_id, api_keys.c.scopes, api_keys.c.created_at, api_keys.c.revoked_at)
            .where(api_keys.c.address == address.lower())
            .order_by(api_keys.c.created_at)
        ).all()
    return [dict(r._mapping) for r in rows]


def check_api_key(engine: Engine, token: str) -> tuple[str, str, frozenset[str]]:
    """(key_id, address, scopes) of a valid, unrevoked key; anything else is `Unauthorized`."""
    if not token.startswith(KEY_PREFIX):
        raise Unauthorized("malformed API key")
    key_id, sep, secret = token[len(KEY_PREFIX) :].partition("_")
    if not sep or not key_id or not secret:
        raise Unauthorized("malformed API key")
    with engine.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        raise Unauthorized("invalid API key")
    if row.revoked_at is not None:
        raise Unauthorized("API key revoked")
    return key_id, str(row.address), frozenset(row.scopes)


def is_operator_key(token: str, operator_key: str | None) -> bool:
    return operator_key is not None and hmac.compare_digest(token.encode(), operator_key.encode())


# ----------------------------------------------------------------------------------- signed requests


def body_hash(body: bytes) -> bytes:
    return keccak(body)


def request_typed_data(
    *, method: str, path: str, body: bytes, nonce: int, deadline: int, chain_id: int
) -> dict[str, Any]:
    """The EIP-712 document a wallet signs for one request (clients build the same to sign)."""
    return {
        "types": REQUEST_TYPES,
        "primaryType": "Request",
        "domain": {"name": API_DOMAIN_NAME, "version": API_DOMAIN_VERSION, "chainId": chain_id},
        "message": {
            "method": method.upper(),
            "path": path,
            "bodyHash": body_hash(body),
            "nonce": nonce,
            "deadline": deadline,
        },
    }


def sign_request(
    account: Any, *, method: str, path: str, body: bytes, nonce: int, deadline: int, chain_id: int
) -> dict[str, str]:
    """Headers for a signed request by `account` (a LocalAccount): the client side, used by tests."""
    data = request_typed_data(
        method=method, path=path, body=body, nonce=nonce, deadline=deadline, chain_id=chain_id
    )
    signature = account.sign_message(encode_typed_data(full_message=data)).signature
    return {
        "X-Tierchain-Address": account.address,
        "X-Tierchain-Signature": "0x" + bytes(signature).hex(),
        "X-Tierchain-Nonce": str(nonce),
        "X-Tierchain-Deadline": str(deadline),
    }


def verify_signed_request(
    *,
    address: str,
    signature: str,
    nonce: str,
    deadline: str,
    method: str,
    path: str,
    body: bytes,
    chain_id: int,
    now: int,
    max_ahead: int,
) -> tuple[str, int, int]:
    """Check a signed request's deadline and signature; returns (address, nonce, deadline)."""
    try:
        nonce_value, deadline_value = int(nonce), int(deadline)
    except ValueError as exc:
        raise Unauthorized("X-Tierchain-Nonce and X-Tierchain-Deadline must be integers") from exc
    if not 0 <= nonce_value < 2**256:
        raise Unauthorized("X-Tierchain-Nonce out of range")
    if deadline_value < now:
        raise Unauthorized("signed request expired")
    if deadline_value > now + max_ahead:
        raise Unauthorized(f"deadline more than {max_ahead}s ahead")
    data = request_typed_data(
        method=method, path=path, body=body, nonce=nonce_value, deadline=deadline_value, chain_id=chain_id
    )
    try:
        signer = Account.recover_message(encode_typed_data(full_message=data), signature=signature)
    except Exception as exc:  # malformed signatures raise a zoo of eth_keys/ValueError types
        raise Unauthorized("malformed request signature") from exc
    if signer.lower() != address.lower():
        raise Unauthorized("request signature does not match X-Tierchain-Address")
    return signer.lower(), nonce_value, deadline_value


def use_nonce(engine: Engine, address: str, nonce: int, deadline: int) -> None:
    """Record a signed request's nonce; a second use is a replay (409)."""
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(request_nonces).values(address=address.lower(), nonce=str(nonce), deadline=deadline)
            )
    except IntegrityError as exc:
        raise NonceReplayed(f"nonce {nonce} already used by {address}") from exc
