"""Errors as RFC 9457 problem details, mapped in this one place.

Routes and dependencies raise `ApiError` subclasses (or let a `TierchainError` from the ledger
through); `register_handlers` turns every one of them into `application/problem+json` with a stable
`type` URI. A decoded contract revert keeps its name and arguments under `contract_error`, and its
status follows what the contract refused: missing things 404, what the caller may not do 403, state
conflicts 409, refused values 422 (naming the request `field` where the error says which). An error
about an account's role or standing is 403 when the account is the caller and 422 when it is a value
of the request (a receiver, an obligor). Roles appear by name, never as their keccak ids. Nothing
ever answers with a stack trace.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.client import role_name
from ledger.errors import (
    ChainUnavailable,
    ContractRevert,
    InsufficientFunds,
    NotPersisted,
    ReceiptTimeout,
    RefusedValue,
    SignerError,
    TierchainError,
    TransactionFailed,
    is_disk_full,
)

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://tierchain.dev/problems/"
PROBLEM_JSON = "application/problem+json"


class ApiError(TierchainError):
    """Base of the API's own errors: a status, a stable slug and a human title."""

    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        sentence: str | None = None,
        sentence_args: Mapping[str, Any] | None = None,
    ):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.headers = dict(headers or {})
        # a catalogue sentence (`error.<sentence>`) for the refusal, as contract refusals have
        self.sentence = sentence
        self.sentence_args = dict(sentence_args or {})


class Unauthorized(ApiError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(ApiError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(ApiError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ApiError):
    status, slug, title = 409, "conflict", "Conflict"


class NonceReplayed(Conflict):
    slug, title = "nonce-replayed", "Request nonce already used"


class IdempotencyInProgress(Conflict):
    slug, title = "idempotency-in-progress", "A request with this idempotency key is still running"


class SelfCustody(Conflict):
    slug, title = "self-custody", "The participant signs its own transactions"


class FaucetDisabled(Conflict):
    slug, title = "faucet-disabled", "The settlement faucet is off on this network"


class EnforcementKeyMissing(Conflict):
    """A lost-key recovery is approved with the service's ENFORCEMENT key, which is not configured (as the
    faucet, a feature of the service that is off until the operator sets it)."""

    slug, title = "enforcement-key-missing", "The service has no ENFORCEMENT key"


class EnforcementKeyIsOperator(Conflict):
    slug, title = "enforcement-key-is-operator", "The ENFORCEMENT key is the operator's key"


class LocalOnly(Conflict):
    slug, title = "local-only", "Only on the local development chain"


class Unprocessable(ApiError):
    status, slug, title = 422, "validation-error", "Invalid request"


class RefusedField(Unprocessable):
    """A value the schema allows, refused on meaning (a cross-field rule, the chain's clock or state):
    `validation-error` naming the `field`, without the `errors` list, which is kept for requests the
    schema itself forbids."""

    def __init__(
        self,
        field: str,
        message: str,
        *,
        sentence: str | None = None,
        sentence_args: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{field}: {message}", field=field, sentence=sentence, sentence_args=sentence_args)


class IdempotencyKeyReused(Unprocessable):
    slug, title = "idempotency-key-reused", "Idempotency key reused with a different request"


class RateLimited(ApiError):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, retry_after: float, reason: str = "rate limit exceeded") -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(f"{reason}; retry in {seconds}s", headers={"Retry-After": str(seconds)})


class NotImplementedYet(ApiError):
    status, slug, title = 501, "not-implemented", "Not implemented"


class ServiceUnavailable(ApiError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


class SigningSettingMissing(SignerError):
    """The service cannot sign because one of its own settings is missing: the answer names it, since
    the fix is the operator's and nothing about it is secret."""

    def __init__(self, setting: str, holds: str) -> None:
        self.setting = setting
        super().__init__(
            f"the service cannot sign: its setting {setting} ({holds}) is not set; the operator must set "
            "it and restart the service"
        )


# ------------------------------------------------------------------------------------ contract reverts

_REVERT_STATUS: dict[str, int] = {
    **dict.fromkeys(
        ("NonexistentToken", "NonexistentSlot", "UnknownProposal", "UnknownOffer", "NotRegistered"), 404
    ),
    "NotHolder": 403,
    **dict.fromkeys(
        (
            "MissingRole",
            "NotAuthorized",
            "NotSupplier",
            "NotObligor",
            "NotAHolder",
            "ParticipantNotActive",
            "IncorrectOwner",
            "InsufficientAllowance",
            "InsufficientApproval",
            "AccessControlUnauthorizedAccount",
            "NotRecourseSeller",
            "NotMoveParty",
            "RecoveryNeedsSecondParty",
            "ERC7943CannotSend",
            "ERC7943CannotReceive",
        ),
        403,
    ),
    **dict.fromkeys(
        (
            "TokenFrozen",
            "TokenNotFrozen",
            "DocumentAlreadyUsed",
            "DocumentAlreadyAttested",
            "AlreadyRegistered",
            "LegalIdAlreadyRegistered",
            "OfferNotOpen",
            "OfferExpired",
            "NonceAlreadyUsed",
            "SlotClosed",
            "ObligationMatured",
            "ObligationNotMatured",
            "NotSettled",
            "GracePeriodRunning",
            "RedemptionsOutstanding",
            "SignatureExpired",
            "AttestationExpired",
            "OperationPaused",
            "ObligorSuspended",
            "DocumentBacksMoves",
            "NoObligorPolicy",
            "ObligorNotSuspended",
            "CreditLimitExceeded",
            "ExposureNotReleasable",
            "NoRecourse",
            "NotDefaulted",
            "RecourseAlreadyOpen",
            "RecoursePieceNotHeld",
            "NoShortfall",
            "RecourseNotOpen",
            "AwaitingAcceptance",
            "NoPendingMove",
            "MoveExpired",
            "MoveNotExpired",
            "AccountRecovered",
            "RecoveryAlreadyRequested",
            "NoRecoveryRequest",
            "NotRecovered",
            "ERC7943InsufficientUnfrozenBalance",
            "ERC7943CannotTransfer",
        ),
        409,
    ),
}


# Errors about an account's role or standing: the caller's own (403) or a value of the request (422).
_ACCOUNT_ERRORS = frozenset(
    {"MissingRole", "NotAHolder", "ParticipantNotActive", "ERC7943CannotSend", "ERC7943CannotReceive"}
)


def revert_status(name: str, *, names_caller: bool = True) -> int:
    """HTTP status for a contract's custom error; anything unlisted is a refused value (422).

    `names_caller` is False when the error's `account` is not the caller's: a role or standing refused
    to someone the request names (a receiver, an obligor) is a refused value, not a refused caller."""
    if name in _ACCOUNT_ERRORS and not names_caller:
        return 422
    return _REVERT_STATUS.get(name, 422)


def _role_names(value: Any) -> Any:
    """A 32-byte role id → its name (as in Roles.sol); anything else unchanged."""
    if isinstance(value, bytes) and len(value) == 32:
        return role_name(value) or value
    return value


def _names_caller(request: Request, args: Mapping[str, Any]) -> bool:
    from api.security import PRINCIPAL_SCOPE_KEY  # api.security maps its own errors through this module

    account = args.get("account")
    caller = request.scope.get(PRINCIPAL_SCOPE_KEY)
    if not isinstance(account, str) or caller is None:
        return True
    return str(getattr(caller, "address", "")).lower() == account.lower()


# For a contract refusal of a value, the argument that carries the refused value; the request's field
# is the one that sent it (`pieces.0.to` for a split's receiver).
_REFUSED_ARG = {
    "MissingRole": "account",
    "NotAHolder": "account",
    "ParticipantNotActive": "account",
    "ERC7943CannotSend": "account",
    "ERC7943CannotReceive": "account",
    "InvalidReceiver": "receiver",
    "UnknownCurrency": "currency",
    "MaturityTooLate": "maturity",
    "NotMultipleOfMinUnit": "value",
    "InsufficientBalance": "needed",
    "TradeBackgroundRequired": "to",
}
# Refusals whose remedy is a sibling of the field that sent the refused value: a receiver refused for
# want of trade documents is answered with the `documents` beside it (`pieces.0.documents`).
_REMEDY_FIELD = {"TradeBackgroundRequired": "documents"}


def _same(sent: Any, refused: Any) -> bool:
    if isinstance(sent, bool):
        return False
    if isinstance(refused, bytes) and isinstance(sent, str):  # a currency code (bytes3) and the like
        return sent.upper() == refused.rstrip(b"\0").decode("ascii", "replace").upper()
    if isinstance(refused, str) and isinstance(sent, str):
        return sent.lower() == refused.lower()
    return isinstance(refused, int) and isinstance(sent, int) and sent == refused


def _path_of(node: Any, refused: Any, path: tuple[str, ...] = ()) -> str | None:
    """The dotted path of the first leaf of `node` equal to `refused` (depth first, in body order)."""
    if isinstance(node, dict):
        items: list[tuple[str, Any]] = [(str(k), v) for k, v in node.items()]
    elif isinstance(node, list):
        items = [(str(i), v) for i, v in enumerate(node)]
    else:
        return ".".join(path) if path and _same(node, refused) else None
    for key, value in items:
        found = _path_of(value, refused, (*path, key))
        if found is not None:
            return found
    return None


def _field_holding(request: Request, name: str, args: Mapping[str, Any]) -> str | None:
    """The request body's field that sent the value a contract refused, when the body says it."""
    from api.limits import BODY_SCOPE_KEY  # api.limits answers through this module

    arg = _REFUSED_ARG.get(name)
    raw = request.scope.get(BODY_SCOPE_KEY)
    if arg is None or arg not in args or not raw:
        return None
    try:
        body = json.loads(raw)  # bounded in size and depth by the guard that stored it
    except ValueError:
        return None
    found = _path_of(body, args[arg])
    remedy = _REMEDY_FIELD.get(name)
    if found is None or remedy is None:
        return found
    parent, _, _ = found.rpartition(".")
    return f"{parent}.{remedy}" if parent else remedy


def slugify(name: str) -> str:
    """`TokenFrozen` → `token-frozen`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    return value


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON)


def _field_path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:] or parts
    return ".".join(parts) or "<root>"


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    unreadable = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
    if unreadable is not None:  # not a refused value: there is no value to refuse
        at = unreadable["loc"][-1] if unreadable.get("loc") else "?"
        why = (unreadable.get("ctx") or {}).get("error", unreadable.get("msg", ""))
        return problem(
            400,
            "malformed-body",
            "Malformed request body",
            f"the body is not valid JSON: {why} (at byte {at}); "
            "send a JSON object as the route's schema says",
            instance=request.url.path,
        )
    errors = [{"field": _field_path(e["loc"]), "message": e["msg"], "code": e["type"]} for e in exc.errors()]
    first = errors[0] if errors else {"field": None, "message": "invalid request"}
    return problem(
        422,
        "validation-error",
        "Invalid request",
        f"{first['field']}: {first['message']}",
        instance=request.url.path,
        field=first["field"],
        errors=errors,
    )


def api_problem(exc: ApiError, instance: str | None) -> JSONResponse:
    """The problem+json answer of `exc`, for the exception handler and the middlewares alike."""
    return problem(
        exc.status,
        exc.slug,
        exc.title,
        exc.detail,
        instance=instance,
        headers=exc.headers,
        field=exc.field,
        sentence=sentence(exc.sentence, exc.sentence_args) if exc.sentence else None,
    )


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return api_problem(exc, request.url.path)


# ------------------------------------------------------------------------- sentences and explanations

CATALOGUE = Path(__file__).resolve().parent / "dashboard" / "i18n" / "en.json"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
DAY = 86_400
YINFA_77 = "PBoC notice Yinfa [2025] No. 77"
SME_DECREE = "Regulations on Ensuring Payments to Small and Medium-sized Enterprises (Decree No. 802)"


@cache
def _catalogue() -> dict[str, str]:
    """The dashboard's English catalogue (`error.<Name>` sentences); empty if it cannot be read."""
    try:
        loaded = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("the message catalogue %s cannot be read; refusals go without a sentence", CATALOGUE)
        return {}
    return {k: v for k, v in loaded.items() if isinstance(v, str)}


def sentence(name: str, args: Mapping[str, Any]) -> str | None:
    """The catalogue's English sentence for contract error `name` (what happened, why, what to do next),
    its `{arg}` placeholders filled from the error's arguments; None when the catalogue has none."""
    template = _catalogue().get(f"error.{name}")
    if template is None:
        return None
    return _PLACEHOLDER.sub(lambda m: str(args[m[1]]) if m[1] in args else m[0], template)


def _days(seconds: Any) -> str:
    if not isinstance(seconds, int):
        return str(seconds)
    whole, rest = divmod(seconds, DAY)
    return f"{whole} days" if rest == 0 else f"{seconds / DAY:.2f} days"


def _date(unix: Any) -> str:
    if not isinstance(unix, int) or unix <= 0 or unix >= 2**40:
        return str(unix)
    return datetime.fromtimestamp(unix, UTC).isoformat().replace("+00:00", "Z")


def _compliance(name: str, a: Mapping[str, Any]) -> str | None:
    """The compliance refusals in words, with their numbers in days and dates (docs/compliance.md)."""
    if name == "TenorTooLong":
        return (
            f"the term to maturity is {_days(a.get('tenor'))}; the policy allows at most "
            f"{_days(a.get('maxTenor'))} ({YINFA_77}): choose an earlier maturity"
        )
    if name == "LongTenorNeedsJustification":
        return (
            f"the term to maturity is {_days(a.get('tenor'))}, beyond the long-tenor threshold of "
            f"{_days(a.get('longTenor'))} ({YINFA_77}): give a `tenor_justification` code or an earlier "
            "maturity"
        )
    if name == "SmePaymentTermExceeded":
        return (
            f"maturity falls {_days(a.get('term'))} after delivery; a large obligor pays a medium, small or "
            f"micro supplier within {_days(a.get('smePaymentTerm'))} of delivery ({SME_DECREE}) unless the "
            "contract's agreed term is cited (`agreed_term`)"
        )
    if name == "MinUnitBelowPolicy":
        return f"the policy's smallest minimum unit is {a.get('policyMinUnit')} minor units ({YINFA_77})"
    if name == "ObligorSuspended":
        return (
            f"obligor {a.get('obligor')} may not issue until {_date(a.get('until'))}: three obligations went "
            f"overdue within 182 days ({YINFA_77}); `GET /v1/participants/{a.get('obligor')}/record` shows "
            "its record"
        )
    if name == "TradeBackgroundRequired":
        return (
            f"{a.get('to')} is not a bank, so a move to it from {a.get('from')} must cite trade documents "
            f"the receiver issued to the payer ({YINFA_77}): send `documents` with the receiver"
        )
    if name == "SplitTooDeep":
        depth, most = a.get("depth"), a.get("maxDepth")
        return f"the new piece would be {depth} tiers below its root; the policy allows {most}"
    if name == "CreditLimitExceeded":
        whom = "obligor" if a.get("perObligor") else "seller"
        return (
            f"bank {a.get('bank')} would have {a.get('wouldBe')} minor units financed on {whom} "
            f"{a.get('counterparty')}, above its credit limit of {a.get('limit')} (授信额度): accept another "
            "bank's offer, or the bank raises its limit"
        )
    if name == "LimitBelowUse":
        return f"{a.get('used')} minor units are outstanding on {a.get('counterparty')} already"
    if name == "RecourseOverpayment":
        return f"{a.get('remaining')} minor units remain of offer {a.get('offerId')}'s claim (追索)"
    if name == "InsufficientTradeCover":
        return f"the documents cited cover {a.get('covered')} of the {a.get('value')} minor units paid"
    return None


async def _contract_revert(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ContractRevert)
    name = exc.error_name or "ContractRevert"
    log.info("contract refused error=%s path=%s tx=%s", name, request.url.path, exc.tx_hash)
    args = {k: _jsonable(_role_names(v)) for k, v in exc.args_by_name.items()}
    detail = str(exc)  # names roles too (ledger.errors)
    field = exc.field if isinstance(exc, RefusedValue) else None
    status = revert_status(name, names_caller=_names_caller(request, exc.args_by_name))
    if field is None and status == 422:
        field = _field_holding(request, name, exc.args_by_name)
    if field is not None:
        detail = f"{field}: {detail}"
    if name == "OperationPaused":
        detail = f"{detail}: {_paused_operation(exc.args_by_name)}"
    explained = _compliance(name, exc.args_by_name)
    if explained is not None:
        detail = f"{detail}: {explained}"
    return problem(
        status,
        slugify(name),
        f"The contract refused: {name}",
        detail,
        instance=request.url.path,
        field=field,
        contract_error={"name": name, "args": args, "contract": exc.contract},
        tx_hash=exc.tx_hash,
        sentence=sentence(name, args),
    )


def _paused_operation(args: Mapping[str, Any]) -> str:
    """What a pause stops, in words: the operation's name and how it resumes."""
    from ledger.governance.operations import operation_names

    bits = args.get("operation")
    names = operation_names(bits) if isinstance(bits, int) else []
    what = " and ".join(names) or "this operation"
    return (
        f"{what} paused by the guardian; GET /v1/governance shows what is paused, and an `unpause` "
        "governance proposal resumes it"
    )


async def _tierchain_error(request: Request, exc: Exception) -> JSONResponse:
    path = request.url.path
    if isinstance(exc, ChainUnavailable):
        return problem(503, "chain-unavailable", "Chain unavailable", str(exc), instance=path)
    if isinstance(exc, ReceiptTimeout):
        return problem(
            504,
            "receipt-timeout",
            "Transaction not mined in time",
            str(exc),
            instance=path,
            tx_hash=exc.tx_hash,
        )
    if isinstance(exc, InsufficientFunds):
        return _insufficient_gas(request, exc)
    if isinstance(exc, TransactionFailed):
        return problem(
            502, "transaction-failed", "Transaction failed", str(exc), instance=path, tx_hash=exc.tx_hash
        )
    if isinstance(exc, SignerError):
        log.error("signer error path=%s error=%s", path, exc)
        if isinstance(exc, SigningSettingMissing):
            title = "Signing key unavailable"
            return problem(500, "signer-unavailable", title, str(exc), instance=path, setting=exc.setting)
        # Anything else (an unreadable keystore, a wrong password) stays in the server's log.
        detail = "the service could not load the signing key for this write; the cause is in its log"
        return problem(500, "signer-unavailable", "Signing key unavailable", detail, instance=path)
    log.error("unhandled tierchain error path=%s error=%r", path, exc)
    return problem(500, "internal-error", "Internal error", None, instance=path)


def _insufficient_gas(request: Request, exc: InsufficientFunds) -> JSONResponse:
    """The signer cannot pay for gas: name the account, its balance and the two ways out. Wei figures
    are decimal strings: they exceed what a JSON number carries exactly."""
    ctx = getattr(request.app.state, "ctx", None)
    operator = str(ctx.operator.address).lower() if ctx is not None else ""
    short = max(exc.needed_wei - max(exc.balance_wei, 0), 0)
    if exc.address.lower() == operator:
        action = f"send the operator's account {exc.address} at least {short} wei of the chain's gas token"
    else:
        action = (
            f"send {exc.address} at least {short} wei of the chain's gas token from any funded account, "
            "or set TIERCHAIN_API_ONBOARDING_FUND_WEI so that onboarding sends every new custodial "
            "participant gas from the operator's account"
        )
    return problem(
        409,
        "insufficient-gas",
        "Not enough gas token to pay for the transaction",
        f"{exc.address} holds {exc.balance_wei} wei on network {exc.network!r} and this transaction "
        f"may cost up to {exc.needed_wei} wei; nothing was sent. To proceed, {action}.",
        instance=request.url.path,
        address=exc.address,
        balance_wei=str(exc.balance_wei),
        needed_wei=str(exc.needed_wei),
    )


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized", 403: "forbidden"}.get(
        exc.status_code, "http-error"
    )
    return problem(
        exc.status_code,
        slug,
        str(exc.detail) if exc.status_code != 404 else "Not found",
        None if exc.status_code == 404 else str(exc.detail),
        instance=request.url.path,
        headers=exc.headers,
    )


DATABASE_RETRY_AFTER_SECONDS = 2  # a restarting database is back within seconds; the pool reconnects
STORAGE_RETRY_AFTER_SECONDS = 30  # a full or read-only disk needs an operator


def storage_problem(exc: BaseException, instance: str | None = None) -> JSONResponse | None:
    """The answer to a request the database or a store could not serve, or None if `exc` is not one.

    - the database unreachable (restarting, connection refused or cut, the pool exhausted):
      503 `database-unavailable`;
    - a store out of space (a full disk, PostgreSQL's class 53 errors): 507 `storage-full`;
    - a store that refuses writes otherwise (a read-only data dir): 503 `storage-unavailable`.

    Each carries `Retry-After`. The request's own effects were not acknowledged: a write retried with
    the same `Idempotency-Key` is applied once (the transaction journal is written before broadcasting).
    Errors that are not about availability (a constraint, a bad statement) stay 500."""
    cause = _storage_cause(exc)
    if cause is None:
        return None
    kind, reason = cause
    if kind == "database":
        log.warning("database unavailable path=%s error=%s", instance, reason)
        return problem(
            503,
            "database-unavailable",
            "Database unavailable",
            "the service's database is unreachable (restarting or cut off); nothing of this request was "
            f"acknowledged: retry in {DATABASE_RETRY_AFTER_SECONDS} s, a write with the same "
            "Idempotency-Key is applied once",
            instance=instance,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    log.error("storage refused a write path=%s error=%s", instance, reason)
    full = kind == "full"
    detail = (
        reason if isinstance(exc, NotPersisted) else f"the service's database refused the write: {reason}"
    )
    return problem(
        507 if full else 503,
        "storage-full" if full else "storage-unavailable",
        "Storage full" if full else "Storage unavailable",
        f"{detail}; nothing of this request was acknowledged: retry once the operator has freed space"
        if full
        else f"{detail}; nothing of this request was acknowledged",
        instance=instance,
        headers={"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)},
    )


def _storage_cause(exc: BaseException) -> tuple[str, str] | None:
    """("database" | "full" | "refused", reason) for availability failures of the database or a store."""
    if isinstance(exc, NotPersisted):
        return ("full" if exc.full else "refused"), str(exc)
    if isinstance(exc, PoolTimeout):
        return "database", f"connection pool exhausted: {exc}"
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    reason = (str(orig) if orig is not None else str(exc)).strip().splitlines()[0][:300]
    sqlstate = str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")
    if is_disk_full(reason) or sqlstate.startswith("53"):
        return "full", reason
    if "readonly database" in reason or "read-only" in reason or sqlstate == "25006":
        return "refused", reason
    if exc.connection_invalidated:
        return "database", reason
    if isinstance(exc, OperationalError | InterfaceError):
        # connection refused or cut, the server shutting down (SQLSTATE 08xxx, 57Pxx) or not yet up
        if sqlstate not in ("", "None") and not sqlstate.startswith(("08", "57")):
            return None  # another OperationalError (e.g. a lock timeout) is not about availability
        return "database", reason
    return None


async def _storage(request: Request, exc: Exception) -> JSONResponse:
    answer = storage_problem(exc, request.url.path)
    if answer is not None:
        return answer
    if isinstance(exc, TierchainError):
        return await _tierchain_error(request, exc)
    return await _last_resort(request, exc)


async def _last_resort(request: Request, exc: Exception) -> JSONResponse:
    # A database error raised outside the routes (a middleware's rate limit, authentication) lands here.
    answer = storage_problem(exc, request.url.path)
    if answer is not None:
        return answer
    log.exception("unhandled error path=%s", request.url.path, exc_info=exc)
    return problem(500, "internal-error", "Internal error", None, instance=request.url.path)


def register_handlers(app: FastAPI) -> None:
    """Install every mapping; Starlette picks the most specific class along the exception's MRO."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ContractRevert, _contract_revert)
    app.add_exception_handler(TierchainError, _tierchain_error)
    app.add_exception_handler(NotPersisted, _storage)
    app.add_exception_handler(DBAPIError, _storage)
    app.add_exception_handler(PoolTimeout, _storage)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(Exception, _last_resort)
