"""Lost-key recovery (密钥遗失恢复), the operator's routes: a participant that lost its key is moved to a new
address by two keys in two steps. The operator's key (ONBOARDING) requests it with a case reference; the
service's ENFORCEMENT key (`TIERCHAIN_API_ENFORCEMENT_KEYSTORE`, never the operator's) approves it, which
moves the registry record, then moves every token the lost address holds or is to accept, in batches of
at most 100. The approval also voids what the service itself holds for the lost address: its API keys are
revoked, its open financing requests withdrawn; the replacement gets its directory profile (legal name,
USCC). The operator then issues the replacement an API key (`POST /v1/participants/{replacement}/api-keys`).

A crash between token batches is resumed by `POST .../recovery/tokens` (or by repeating the approval):
each run moves what is left. Case references are kept as written beside the 32 bytes the registry records
(`ledger.client.models.case_ref`). Regulators read recoveries at `GET /v1/regulator/recoveries`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Literal

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, select, update
from sqlmodel import Session, col
from sqlmodel import select as sql_select

from api.deps import ContextDep, OperatorParticipant, OverseerParticipant, SessionDep, WriterDep
from api.directory import read_profile, save_profile
from api.errors import Conflict, NotFound, RefusedField
from api.routes.financing import record_request_event
from api.schemas import PROBLEM_RESPONSES, Address, RequestModel, WriteResult
from api.tables import api_keys, financing_requests, recovery_cases
from ledger.client import TokensRecovered, case_ref
from ledger.indexer import queries
from ledger.indexer.models import PENDING, PendingMove, Token
from ledger.indexer.models import Participant as ParticipantRow
from ledger.keys import Signer

log = logging.getLogger(__name__)

router = APIRouter(prefix="/participants", tags=["recovery"], responses=PROBLEM_RESPONSES)

AddressPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="the lost address")]
CASE_HELP = (
    "the case reference as written, e.g. (2026)沪0115执1234号 or RC-2026-0042: recorded on-chain as "
    "keccak256 of its NFKC form without surrounding blanks (full-width and ASCII brackets are one case), "
    "or a 0x 32-byte hex taken as is"
)
CaseRefText = Annotated[str, Field(min_length=1, max_length=200, description=CASE_HELP)]
RecoveryState = Literal["requested", "approved", "cancelled"]
NEXT_STEPS = (
    "issue the replacement an API key (POST /v1/participants/{replacement}/api-keys) and hand it over; the "
    "replacement holds its own key (self custody: it signs with /v1/tx/prepare and /v1/tx/submit) and pays "
    "its own gas: send it the chain's gas token; tell its counterparties the new address"
)


class RecoveryRequestBody(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "replacement": "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
                    "case_ref": "RC-2026-0042",
                    "note": "key lost with the finance officer's laptop; identity checked at the branch",
                }
            ]
        },
    )

    replacement: Address = Field(
        description="the new address, never registered; the participant holds its key"
    )
    case_ref: CaseRefText
    note: str | None = Field(default=None, max_length=1000, description="the operator's note, kept off-chain")


class CaseBody(RequestModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"case_ref": "RC-2026-0042"}]})

    case_ref: CaseRefText


class RecoveryRequestedResult(BaseModel):
    lost: str
    replacement: str
    case_ref: str = Field(description="as written")
    case_hash: str = Field(description="the 32 bytes the registry records")
    requested_by: str


class RecoveryApprovedResult(BaseModel):
    lost: str
    replacement: str
    case_ref: str
    case_hash: str
    requested_by: str
    approved_by: str


class RecoveryCancelledResult(BaseModel):
    lost: str
    case_ref: str
    case_hash: str
    cancelled_by: str


class TokenBatch(BaseModel):
    tx_hash: str
    block_number: int
    gas_used: int
    token_ids: list[int]


class TokensMoved(BaseModel):
    """The `recoverTokens` transactions of this run, in order; none when nothing was left to move."""

    replacement: str
    batches: list[TokenBatch]
    token_ids: list[int] = Field(description="every token moved by this run")


class OffChainVoided(BaseModel):
    """What the service voided for the lost address and handed to the replacement."""

    api_keys_revoked: list[str] = Field(description="ids of the lost address's API keys revoked")
    financing_requests_withdrawn: list[int] = Field(description="its open financing requests, withdrawn")
    profile_copied: bool = Field(
        description="the directory profile (legal name, USCC) now names the replacement"
    )


class RecoveryApproval(BaseModel):
    approval: WriteResult[RecoveryApprovedResult] | None = Field(
        description="the registry's approval; null when it was approved by an earlier run (this run resumed)"
    )
    tokens: TokensMoved
    voided: OffChainVoided
    next_steps: str


class RecoveryCaseView(BaseModel):
    """A recovery as indexed, with the case reference as written and what is left to move."""

    lost: str
    replacement: str
    state: RecoveryState
    case_ref: str | None = Field(description="as written; null when requested outside this service")
    case_hash: str
    note: str | None
    requested_by: str
    requested_block: int
    requested_at: int
    approved_by: str | None
    cancelled_by: str | None
    closed_block: int | None
    closed_at: int | None
    tokens_moved: int
    tokens_left: int = Field(description="live tokens still held by the lost address or pending to it")


# ------------------------------------------------------------------------------------ helpers


def _case(text: str) -> tuple[str, str]:
    try:
        return text.strip(), "0x" + case_ref(text).hex()
    except ValueError as exc:
        raise RefusedField("case_ref", str(exc)) from exc


def _result_meta(outcome: object) -> dict[str, object]:
    return {k: getattr(outcome, k) for k in ("tx_hash", "block_number", "gas_used")}


def _plain_refs(engine: Engine, lost: str) -> dict[str, tuple[str, str | None]]:
    c = recovery_cases.c
    with engine.connect() as conn:
        rows = conn.execute(select(c.case_hash, c.case_ref, c.note).where(c.lost == lost)).all()
    return {r.case_hash: (r.case_ref, r.note) for r in rows}


def _tokens_left(session: Session, lost: str) -> int:
    owned = session.exec(
        sql_select(Token.token_id).where(col(Token.owner) == lost, col(Token.burned).is_(False))
    ).all()
    pending = session.exec(
        sql_select(PendingMove.token_id).where(
            col(PendingMove.receiver) == lost, col(PendingMove.status) == PENDING
        )
    ).all()
    return len(set(owned) | set(pending))


def case_views(session: Session, engine: Engine, views: list[queries.RecoveryView]) -> list[RecoveryCaseView]:
    """Indexed recoveries with their plain case references (one lookup per lost address)."""
    plain: dict[str, dict[str, tuple[str, str | None]]] = {}
    answer = []
    for v in views:
        if v.lost not in plain:
            plain[v.lost] = _plain_refs(engine, v.lost)
        refs = plain[v.lost]
        text, note = refs.get(v.case_ref, (None, None))
        answer.append(
            RecoveryCaseView(
                lost=v.lost,
                replacement=v.replacement,
                state=v.state,
                case_ref=text,
                case_hash=v.case_ref,
                note=note,
                requested_by=v.requested_by,
                requested_block=v.requested_block,
                requested_at=v.requested_at,
                approved_by=v.approved_by,
                cancelled_by=v.cancelled_by,
                closed_block=v.closed_block,
                closed_at=v.closed_at,
                tokens_moved=v.tokens_moved,
                tokens_left=_tokens_left(session, v.lost) if v.state == "approved" else 0,
            )
        )
    return answer


def _enforcer(ctx: ContextDep) -> Signer:
    signer: Signer = ctx.enforcement_signer()
    return signer


def _sub(key: str | None, step: str) -> str | None:
    return f"{key}:{step}" if key is not None else None


def _moved(result: TokensRecovered) -> TokensMoved:
    return TokensMoved(
        replacement=result.replacement.lower(),
        batches=[
            TokenBatch(
                tx_hash=b.tx_hash,
                block_number=b.block_number,
                gas_used=b.gas_used,
                token_ids=list(b.token_ids),
            )
            for b in result.batches
        ],
        token_ids=list(result.token_ids),
    )


def _void_off_chain(engine: Engine, lost: str, replacement: str, operator: str) -> OffChainVoided:
    """Revoke the lost address's API keys, withdraw its open financing requests, hand its directory
    profile to the replacement (each idempotent: a re-run finds nothing more to do)."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        keys = [
            str(k)
            for k in conn.execute(
                select(api_keys.c.key_id).where(api_keys.c.address == lost, api_keys.c.revoked_at.is_(None))
            ).scalars()
        ]
        if keys:
            conn.execute(update(api_keys).where(api_keys.c.key_id.in_(keys)).values(revoked_at=now))
        f = financing_requests.c
        requests = [
            int(r)
            for r in conn.execute(
                select(f.request_id).where(f.holder == lost, f.status == "open").order_by(f.request_id)
            ).scalars()
        ]
        for request_id in requests:
            conn.execute(
                update(financing_requests)
                .where(f.request_id == request_id)
                .values(status="withdrawn", decided_at=now)
            )
            record_request_event(conn, request_id, "FinancingRequestWithdrawn", reason="lost-key recovery")
    profile, mine = read_profile(engine, lost), read_profile(engine, replacement)
    copied = False
    if profile.on_file and not mine.on_file:
        assert (
            profile.legal_name is not None and profile.uscc is not None and profile.legal_id_hash is not None
        )
        save_profile(engine, replacement, profile.legal_name, profile.uscc, profile.legal_id_hash, operator)
        copied = True
    log.info(
        "recovery voided off-chain lost=%s keys=%d requests=%d profile_copied=%s",
        lost,
        len(keys),
        len(requests),
        copied,
    )
    return OffChainVoided(api_keys_revoked=keys, financing_requests_withdrawn=requests, profile_copied=copied)


# ------------------------------------------------------------------------------------ routes

_REQUEST_REFUSALS = (
    "404 not-found (no such participant); 409 recovery-already-requested, account-recovered, "
    "already-registered (the replacement is registered); 422 validation-error (case_ref), invalid-case-ref"
)


@router.post(
    "/{address}/recovery",
    status_code=201,
    summary="Request the recovery of a participant that lost its key (operator, ONBOARDING)",
    description="Step 1 of 2: nothing moves until the ENFORCEMENT key approves. Refusals: "
    + _REQUEST_REFUSALS,
)
def request_recovery(
    address: AddressPath,
    body: RecoveryRequestBody,
    ctx: ContextDep,
    session: SessionDep,
    caller: OperatorParticipant,
    writer: WriterDep,
) -> WriteResult[RecoveryRequestedResult]:
    lost = address.lower()
    if session.get(ParticipantRow, lost) is None:
        raise NotFound(f"participant {address} not found")
    text, hashed = _case(body.case_ref)

    def make() -> WriteResult[RecoveryRequestedResult]:
        done = ctx.client.request_recovery(
            ctx.operator,
            to_checksum_address(lost),
            to_checksum_address(body.replacement),
            text,
            key=writer.key,
        )
        with ctx.engine.begin() as conn:
            c = recovery_cases.c
            conn.execute(recovery_cases.delete().where(c.lost == lost, c.case_hash == hashed))
            conn.execute(
                recovery_cases.insert().values(
                    lost=lost,
                    case_hash=hashed,
                    case_ref=text,
                    replacement=body.replacement.lower(),
                    note=body.note,
                    recorded_by=caller.address,
                    recorded_at=datetime.now(UTC),
                )
            )
        return WriteResult[RecoveryRequestedResult](
            **_result_meta(done),
            result=RecoveryRequestedResult(
                lost=done.lost.lower(),
                replacement=done.replacement.lower(),
                case_ref=text,
                case_hash=hashed,
                requested_by=done.requested_by.lower(),
            ),
        )

    return writer.answer(make, status_code=201)


@router.post(
    "/{address}/recovery/approve",
    summary="Approve a requested recovery and move every token (ENFORCEMENT key, a second party)",
    description=(
        "Step 2 of 2, signed with the service's ENFORCEMENT key: the registry record moves to the "
        "replacement, then every token the lost address holds or is to accept moves in batches of at most "
        "100; its API keys are revoked, its open financing requests withdrawn, its directory profile handed "
        "to the replacement. Repeated after an approval it resumes the token moves. Refusals: 404 not-found; "
        "409 no-recovery-request, enforcement-key-missing (TIERCHAIN_API_ENFORCEMENT_KEYSTORE unset), "
        "enforcement-key-is-operator; 422 recovery-case-mismatch; 403 recovery-needs-second-party"
    ),
)
def approve_recovery(
    address: AddressPath,
    body: CaseBody,
    ctx: ContextDep,
    session: SessionDep,
    caller: OperatorParticipant,
    writer: WriterDep,
) -> RecoveryApproval:
    lost = address.lower()
    if session.get(ParticipantRow, lost) is None:
        raise NotFound(f"participant {address} not found")
    text, hashed = _case(body.case_ref)
    enforcer = _enforcer(ctx)

    def make() -> RecoveryApproval:
        who = to_checksum_address(lost)
        approval = None
        if ctx.client.recovered_to(who) is None:
            done = ctx.client.approve_recovery(enforcer, who, text, key=_sub(writer.key, "approve"))
            approval = WriteResult[RecoveryApprovedResult](
                **_result_meta(done),
                result=RecoveryApprovedResult(
                    lost=lost,
                    replacement=done.replacement.lower(),
                    case_ref=text,
                    case_hash=hashed,
                    requested_by=done.requested_by.lower(),
                    approved_by=done.approved_by.lower(),
                ),
            )
            ctx.sync(through=done.block_number)
        else:
            _check_approved_case(ctx, lost, hashed)
        return _finish(ctx, lost, text, enforcer, writer.key, caller.address, approval)

    return writer.answer(make)


def _check_approved_case(ctx: ContextDep, lost: str, hashed: str) -> None:
    ctx.sync()
    with Session(ctx.engine) as s:
        found = queries.recoveries(s, lost=lost, state="approved")
    if found and found[-1].case_ref != hashed:
        raise RefusedField("case_ref", f"{lost} was recovered under another case ({found[-1].case_ref})")


def _finish(
    ctx: ContextDep,
    lost: str,
    text: str,
    enforcer: Signer,
    key: str | None,
    operator: str,
    approval: WriteResult[RecoveryApprovedResult] | None,
) -> RecoveryApproval:
    moved = ctx.client.recover_tokens(enforcer, to_checksum_address(lost), text, key=_sub(key, "tokens"))
    replacement = moved.replacement.lower()
    voided = _void_off_chain(ctx.engine, lost, replacement, operator)
    ctx.watch.expire()  # the revoked keys stop working in this process at once
    return RecoveryApproval(
        approval=approval,
        tokens=_moved(moved),
        voided=voided,
        next_steps=NEXT_STEPS.replace("{replacement}", replacement),
    )


@router.post(
    "/{address}/recovery/tokens",
    summary="Move what is left of a recovered participant's tokens (ENFORCEMENT key): resume after a crash",
    description=(
        "Moves every token the recovered address still holds or is to accept, in batches of at most 100, "
        "and voids what the service holds for it (as the approval). Nothing left: no batch. Refusals: "
        "404 not-found; 409 conflict (not recovered yet: approve first), enforcement-key-missing, "
        "enforcement-key-is-operator; 422 validation-error (case_ref of another case)"
    ),
)
def recover_tokens(
    address: AddressPath,
    body: CaseBody,
    ctx: ContextDep,
    session: SessionDep,
    caller: OperatorParticipant,
    writer: WriterDep,
) -> RecoveryApproval:
    lost = address.lower()
    if session.get(ParticipantRow, lost) is None:
        raise NotFound(f"participant {address} not found")
    text, hashed = _case(body.case_ref)
    enforcer = _enforcer(ctx)
    if ctx.client.recovered_to(to_checksum_address(lost)) is None:
        raise Conflict(f"{address} is not recovered: approve its recovery (POST .../recovery/approve) first")

    def make() -> RecoveryApproval:
        _check_approved_case(ctx, lost, hashed)
        return _finish(ctx, lost, text, enforcer, writer.key, caller.address, None)

    return writer.answer(make)


@router.delete(
    "/{address}/recovery",
    summary="Withdraw a requested recovery (operator, ONBOARDING)",
    description=(
        "Refusals: 404 not-found; 409 no-recovery-request; 422 recovery-case-mismatch, validation-error"
    ),
)
def cancel_recovery(
    address: AddressPath,
    ctx: ContextDep,
    session: SessionDep,
    _: OperatorParticipant,
    writer: WriterDep,
    case: Annotated[str, Query(alias="case_ref", min_length=1, max_length=200, description=CASE_HELP)],
) -> WriteResult[RecoveryCancelledResult]:
    lost = address.lower()
    if session.get(ParticipantRow, lost) is None:
        raise NotFound(f"participant {address} not found")
    text, hashed = _case(case)

    def make() -> WriteResult[RecoveryCancelledResult]:
        done = ctx.client.cancel_recovery(ctx.operator, to_checksum_address(lost), text, key=writer.key)
        return WriteResult[RecoveryCancelledResult](
            **_result_meta(done),
            result=RecoveryCancelledResult(
                lost=lost, case_ref=text, case_hash=hashed, cancelled_by=done.cancelled_by.lower()
            ),
        )

    return writer.answer(make)


class RecoveryStatusView(BaseModel):
    """A participant's standing as to recovery: its status, where it was recovered to, and every recovery
    of it (cancelled ones included), oldest first."""

    address: str
    status: str = Field(description="the indexed registry status: active, suspended, recovered, …")
    recovered_to: str | None = Field(description="the replacement, once a recovery was approved")
    recoveries: list[RecoveryCaseView]


@router.get(
    "/{address}/recovery",
    summary="A participant's recoveries: state, case, tokens moved and left (regulator, operator)",
    description="Refusals: 404 not-found (no such participant)",
)
def get_recovery(
    address: AddressPath, ctx: ContextDep, session: SessionDep, _: OverseerParticipant
) -> RecoveryStatusView:
    row = session.get(ParticipantRow, address.lower())
    if row is None:
        raise NotFound(f"participant {address} not found")
    views = case_views(session, ctx.engine, queries.recoveries(session, lost=address))
    approved = [v.replacement for v in views if v.state == "approved"]
    return RecoveryStatusView(
        address=row.address,
        status=row.status,
        recovered_to=approved[-1] if approved else None,
        recoveries=views,
    )
