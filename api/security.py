"""Who is calling: API keys (stored as hashes only), wallet-signed requests (EIP-712), the operator.

An API key is `tc_<key_id>_<secret>`: the id finds the row, the sha256 of the 32-byte secret is what
is stored and compared. A wallet-signed request carries the caller's address, a nonce and a deadline
and an EIP-712 signature over `Request(method, path, bodyHash, nonce, deadline)`; the nonce is
single-use (stored), the deadline at most `signature_max_deadline_seconds` ahead.

`authenticate` turns a request into its `Principal` once per request (the answer is kept in the ASGI
scope): `api.limits.RequestGuard` calls it before a body is read, the `CurrentParticipant` dependency
for requests without one. It meters failures per client address and successes per participant
(`api.ratelimit`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request

from api.config import AppContext
from api.errors import Forbidden, NonceReplayed, Unauthorized
from api.ratelimit import Limiter
from api.tables import api_keys, request_nonces
from ledger.indexer import queries
from ledger.indexer.models import Participant as ParticipantRow

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
    # Lost addresses whose records were recovered to this one (`queries.predecessors`): the desks accept
    # it for them (an obligor's repayment, a seller's recourse settlement), and so does the API.
    predecessors: frozenset[str] = frozenset()

    def acts_for(self, address: str | None) -> bool:
        """Whether `address` (a recorded obligor, seller, …) is the caller or one it replaced."""
        return address is not None and (
            address.lower() == self.address or address.lower() in self.predecessors
        )

    @property
    def identities(self) -> frozenset[str]:
        """The caller's address and those it replaced."""
        return self.predecessors | {self.address}

    @property
    def rate_key(self) -> str:
        """One bucket per participant, whichever of its keys or its wallet signed the request."""
        return self.address

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


# ------------------------------------------------------------------------------------ the request

PRINCIPAL_SCOPE_KEY = "tierchain.principal"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGNATURE_HEADER = "x-tierchain-signature"


def bearer_token(headers: Headers) -> str | None:
    """The credentials of `Authorization: Bearer <token>` (as FastAPI's `HTTPBearer` reads them)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def has_credentials(headers: Headers) -> bool:
    return bearer_token(headers) is not None or SIGNATURE_HEADER in headers


def client_address(request: Request) -> str:
    """The peer's address as the server sees it (behind a proxy: run uvicorn with --proxy-headers
    and --forwarded-allow-ips so this is the client, not the proxy)."""
    return request.client.host if request.client else "unknown"


def _participant(
    ctx: AppContext, address: str, *, via: str, scopes: frozenset[str], key_id: str | None
) -> Principal:
    with Session(ctx.engine) as session:
        row = session.get(ParticipantRow, address.lower())
        replaced = queries.predecessors(session, address) if row is not None else frozenset()
    if row is None or row.status == "none":
        raise Forbidden(f"{address} is not a registered participant")
    if row.status == "recovered":  # its key was lost: whoever holds it now acts for no one
        raise Forbidden(
            f"{address} lost its key and was recovered to another address: it can no longer act or read"
        )
    roles = frozenset(r for r in row.roles if r in Role.__members__)
    return Principal(
        address=row.address,
        roles=roles,
        status=row.status,
        scopes=scopes,
        via=via,
        key_id=key_id,
        predecessors=replaced,
    )


def _api_key_principal(ctx: AppContext, token: str) -> Principal:
    """The key's participant, from the credential cache while the state stands (`api.credentials`)."""

    def check() -> Principal:
        key_id, address, scopes = check_api_key(ctx.engine, token)
        return _participant(ctx, address, via="api_key", scopes=scopes, key_id=key_id)

    return ctx.principals.principal(token, check)


async def _identify(request: Request, ctx: AppContext, token: str | None) -> Principal:
    if token is not None:
        operator_key = ctx.api.operator_key.get_secret_value() if ctx.api.operator_key else None
        if is_operator_key(token, operator_key):
            return Principal(
                address=ctx.operator.address.lower(),
                roles=frozenset({Role.OPERATOR}),
                status="active",
                scopes=frozenset({Scope.READ, Scope.WRITE}),
                via="operator",
            )
        return await run_in_threadpool(_api_key_principal, ctx, token)  # `authenticate` peeked already
    headers = request.headers
    signer = headers.get("x-tierchain-address")
    nonce, deadline = headers.get("x-tierchain-nonce"), headers.get("x-tierchain-deadline")
    if not (signer and nonce and deadline):
        raise Unauthorized("a signed request needs X-Tierchain-Address, -Nonce and -Deadline")
    address, nonce_value, deadline_value = verify_signed_request(
        address=signer,
        signature=headers[SIGNATURE_HEADER],
        nonce=nonce,
        deadline=deadline,
        method=request.method,
        path=request.url.path,
        body=await request.body(),
        chain_id=ctx.deployment.chain_id,
        now=int(time.time()),
        max_ahead=ctx.api.signature_max_deadline_seconds,
    )
    caller = await run_in_threadpool(
        _participant, ctx, address, via="signature", scopes=frozenset(Scope), key_id=None
    )
    await run_in_threadpool(use_nonce, ctx.engine, address, nonce_value, deadline_value)
    return caller


async def _spend(limiter: Limiter, step: Literal["hit", "check", "charge"], key: str) -> None:
    """A rate-limiter step: on the event loop for buckets in memory, in a thread for the database's."""
    if step == "hit" and limiter.spend_local(key):  # a token this process holds: no round trip
        return
    call = getattr(limiter, step)
    if limiter.in_memory:
        call(key)
    else:
        await run_in_threadpool(call, key)


async def authenticate(request: Request, ctx: AppContext) -> Principal:
    """The caller, by API key, operator key or wallet signature; rate-limited and scope-checked.

    A client address past its budget of failed authentications is refused (429) before any key
    lookup or signature recovery; every failure (bad or revoked key, bad or replayed signature, an
    address that is no participant) spends from that budget. A key already checked at the current
    state (`api.credentials`) is known good and skips that budget. A success spends from the
    participant's own bucket, which all of its keys and its wallet share.
    """
    known = request.scope.get(PRINCIPAL_SCOPE_KEY)
    if isinstance(known, Principal):
        return known
    token = bearer_token(request.headers)
    if token is None and SIGNATURE_HEADER not in request.headers:
        raise Unauthorized("send `Authorization: Bearer <API key>` or a wallet-signed request")
    client = client_address(request)
    # A key checked before at this state is known good: no failure budget to consult, no lookup.
    kept = ctx.principals.peek(token) if token is not None else None
    if kept is not None:
        caller = kept
    else:
        await _spend(ctx.auth_failures, "check", client)
        try:
            caller = await _identify(request, ctx, token)
        except (Unauthorized, Forbidden, NonceReplayed):
            await _spend(ctx.auth_failures, "charge", client)
            raise
    await _spend(ctx.limiter, "hit", caller.rate_key)
    writing = request.method not in READ_METHODS
    needed = Scope.WRITE if writing else Scope.READ
    if needed not in caller.scopes:
        raise Forbidden(f"this API key lacks the {needed.value!r} scope")
    if writing and caller.status != "active":
        raise Forbidden(f"participant {caller.address} is {caller.status}; it may read but not write")
    request.scope[PRINCIPAL_SCOPE_KEY] = caller
    return caller
