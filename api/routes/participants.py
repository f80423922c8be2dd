"""Participants: onboarding by the operator (on-chain registration, size class, custodial key, first API
key), status and size-class changes, API keys, `GET /participants/me`, and an obligor's overdue record."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Literal, cast

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from fastapi import APIRouter, Body, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select as sa_select
from sqlmodel import select

from api.deps import (
    ContextDep,
    CurrentParticipant,
    OperatorParticipant,
    OverseerParticipant,
    SessionDep,
    WriterDep,
)
from api.directory import LegalName, ProfileView, check_uscc, read_profile, save_profile, verify_registered
from api.errors import Forbidden, NotFound, RefusedField, Unprocessable
from api.results import RegisteredResult, StatusChangedResult
from api.schemas import PROBLEM_RESPONSES, Address, RequestModel, WriteResult, chain_now
from api.security import Role, Scope, issue_api_key, list_api_keys, revoke_api_key
from api.tables import participant_profiles
from ledger.client import ParticipantStatus, TierchainClient
from ledger.client.compliance import SizeClass
from ledger.errors import ContractRevert
from ledger.indexer.models import Participant as ParticipantRow

log = logging.getLogger(__name__)

router = APIRouter(prefix="/participants", tags=["participants"], responses=PROBLEM_RESPONSES)

OnboardRole = Literal["CORE_ENTERPRISE", "SUPPLIER", "BANK", "REGULATOR", "ORACLE"]
SizeClassName = Literal["large", "medium", "small", "micro"]
SizeClassShown = Literal["unclassified", "large", "medium", "small", "micro"]
SIZE_CLASS_HELP = (
    "the enterprise's size class under the national classification (大型 / 中型 / 小型 / 微型): a large "
    "obligor pays medium, small and micro suppliers within the policy's SME payment term"
)
AddressPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$")]


class Onboard(RequestModel):
    """A new participant: `custodial` (the default: the service creates its key and signs for it) or
    `self` (it holds its own key at `address` and signs with /v1/tx/prepare + submit)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"legal_id": "91310000MA1FL8T123", "roles": ["SUPPLIER"], "custody": "custodial"},
                {
                    "legal_id": "91310000MA1FL8T456",
                    "roles": ["BANK"],
                    "custody": "self",
                    "address": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                },
            ]
        },
    )

    legal_id: str = Field(
        min_length=1, max_length=200, description="registry id (e.g. USCC); hashed on-chain"
    )
    roles: list[OnboardRole] = Field(min_length=1)
    scopes: list[Scope] = Field(default=[Scope.READ, Scope.WRITE], min_length=1)
    custody: Literal["custodial", "self"] = "custodial"
    address: Address | None = Field(
        default=None, description="the participant's own account; `self` custody only"
    )
    legal_name: LegalName | None = Field(
        default=None,
        description="the legal name for the participant directory; `legal_id` must then be its USCC",
    )
    size_class: SizeClassName | None = Field(
        default=None, description=SIZE_CLASS_HELP + "; recorded on-chain after registration"
    )

    def check(self) -> None:
        """`address` goes with `self` custody only: a cross-field rule, so a refusal (422 naming
        `address`) rather than a schema error."""
        if self.custody == "self" and self.address is None:
            raise RefusedField("address", "required when custody is 'self'")
        if self.custody == "custodial" and self.address is not None:
            raise RefusedField(
                "address", "only with custody 'self': the service creates a custodial participant's key"
            )
        if self.legal_name is not None:
            check_uscc("legal_id", self.legal_id)


OnboardRequest = Annotated[Onboard, Body()]


class ParticipantView(BaseModel):
    address: str
    status: str
    roles: list[str]
    legal_id_hash: str | None
    custodial: bool
    size_class: SizeClassShown = Field(default="unclassified", description=SIZE_CLASS_HELP)


class GasFunding(BaseModel):
    """Gas the operator's account sent a new custodial participant (`TIERCHAIN_API_ONBOARDING_FUND_WEI`)."""

    amount_wei: str = Field(
        description="wei sent, a decimal string (beyond what a JSON number holds exactly)",
        examples=["1000000000000000000"],
    )
    tx_hash: str
    block_number: int


class Onboarded(BaseModel):
    participant: ParticipantView
    api_key: str = Field(description="shown once; only its hash is stored")
    key_id: str
    registration: WriteResult[RegisteredResult]
    gas_funding: GasFunding | None = Field(
        default=None,
        description=(
            "the gas sent to a custodial participant so that its writes can be paid for; null for a "
            "self-custody participant, or where onboarding sends none (`TIERCHAIN_API_ONBOARDING_FUND_WEI`"
            " = 0, the default off the local network): then fund the address with the chain's gas token"
        ),
    )


class StatusRequest(RequestModel):
    status: Literal["active", "suspended"]


class KeyRequest(RequestModel):
    scopes: list[Scope] = Field(default=[Scope.READ, Scope.WRITE], min_length=1)


class IssuedKey(BaseModel):
    key_id: str
    api_key: str


class KeyView(BaseModel):
    key_id: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None


def _size_class(client: TierchainClient, address: str) -> SizeClassShown:
    return cast(SizeClassShown, client.size_class(to_checksum_address(address)).label)


def _view(ctx: ContextDep, row: ParticipantRow) -> ParticipantView:
    return ParticipantView(
        address=row.address,
        status=row.status,
        roles=list(row.roles),
        legal_id_hash=row.legal_id_hash,
        custodial=ctx.keys.is_custodial(row.address),
        size_class=_size_class(ctx.client, row.address),
    )


@router.post("", status_code=201, summary="Onboard a participant (operator)")
def onboard(
    body: OnboardRequest, ctx: ContextDep, caller: OperatorParticipant, writer: WriterDep
) -> Onboarded:
    body.check()
    operator = caller.address

    def make() -> Onboarded:
        request_key = f"{writer.key}:custodial-key" if writer.key else None
        created = ctx.keys.create(request_key) if body.custody == "custodial" else None
        address = created.address if created is not None else to_checksum_address(cast(str, body.address))
        registered = None
        try:
            registered = ctx.client.register_participant(
                ctx.operator,
                address,
                keccak(text=body.legal_id),
                list(body.roles),
                key=f"{writer.key}:register" if writer.key else None,
            )
            if body.size_class is not None:
                ctx.client.set_size_class(
                    ctx.operator,
                    address,
                    SizeClass.parse(body.size_class),
                    key=f"{writer.key}:size-class" if writer.key else None,
                )
            funding = None
            if created is not None and (amount := ctx.onboarding_fund_wei):
                receipt = ctx.client.manager.send(
                    {"to": address, "value": amount},
                    idempotency_key=f"{writer.key}:fund" if writer.key else None,
                )
                funding = GasFunding(
                    amount_wei=str(amount),
                    tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
                    block_number=int(receipt["blockNumber"]),
                )
                log.info(
                    "custodial participant funded with gas address=%s wei=%d tx=%s",
                    address,
                    amount,
                    funding.tx_hash,
                )
        except ContractRevert:
            # The chain refused the registration itself: the key never held anything. After the
            # registration, or on an outcome not known (a timeout, a dead node, a lost database), the key
            # is kept: its registration may be mined, and a retry under the same key reuses it.
            if created is not None and registered is None:
                ctx.keys.discard(created.address)
            raise
        ctx.sync()
        legal_id_hash = "0x" + registered.legal_id_hash.hex()
        if body.legal_name is not None:
            save_profile(ctx.engine, address.lower(), body.legal_name, body.legal_id, legal_id_hash, operator)
        key_id, api_key = issue_api_key(ctx.engine, address, [s.value for s in body.scopes])
        view = ParticipantView(
            address=address.lower(),
            status="active",
            roles=sorted(body.roles),
            legal_id_hash=legal_id_hash,
            custodial=created is not None,
            size_class=body.size_class or "unclassified",
        )
        return Onboarded(
            participant=view,
            api_key=api_key,
            key_id=key_id,
            registration=WriteResult.of(registered),
            gas_funding=funding,
        )

    return writer.answer(make, status_code=201)


@router.get("/me", summary="The calling participant")
def me(caller: CurrentParticipant, ctx: ContextDep, session: SessionDep) -> ParticipantView:
    row = session.get(ParticipantRow, caller.address)
    # The operator is the registry admin, not a participant: the indexer may hold a row for its
    # address (the contract roles granted at deployment), which says nothing of what the key may do.
    if row is None or caller.is_operator:
        return ParticipantView(
            address=caller.address,
            status=caller.status,
            roles=sorted(caller.roles),
            legal_id_hash=None,
            custodial=False,
        )
    return _view(ctx, row)


HOLDER_ROLES = ("CORE_ENTERPRISE", "SUPPLIER", "BANK")


class DirectoryEntry(BaseModel):
    """An active holder a participant may pay: its address, legal name (null when none is on file) and
    holder roles. The USCC and the registry's hash stay behind `GET /participants/{address}/profile`."""

    address: str
    legal_name: str | None
    roles: list[str]


@router.get(
    "/directory",
    summary="Active holders (core, suppliers, banks) by legal name: whom one may pay (any participant)",
)
def directory(_: CurrentParticipant, ctx: ContextDep, session: SessionDep) -> list[DirectoryEntry]:
    rows = session.exec(select(ParticipantRow).where(ParticipantRow.status == "active")).all()
    holders = [(row.address, sorted(r for r in row.roles if r in HOLDER_ROLES)) for row in rows]
    c = participant_profiles.c
    with ctx.engine.connect() as connection:
        names = {a: n for a, n in connection.execute(sa_select(c.address, c.legal_name))}
    entries = [
        DirectoryEntry(address=address, legal_name=names.get(address), roles=roles)
        for address, roles in holders
        if roles
    ]
    return sorted(entries, key=lambda e: (e.legal_name is None, e.legal_name or "", e.address))


@router.get("/{address}", summary="One participant (regulator, operator)")
def get_participant(
    address: AddressPath, _: OverseerParticipant, ctx: ContextDep, session: SessionDep
) -> ParticipantView:
    row = session.get(ParticipantRow, address.lower())
    if row is None:
        raise NotFound(f"participant {address} not found")
    return _view(ctx, row)


class ProfileRequest(RequestModel):
    """A directory entry: the USCC must hash to the legal id the registry holds for the participant."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"legal_name": "华信汽车股份有限公司", "uscc": "91350100M000100Y43"}]
        },
    )

    legal_name: LegalName
    uscc: str = Field(min_length=1, max_length=200, description="unified social credit code, in capitals")


@router.put("/{address}/profile", summary="Record a participant's legal name and USCC (operator)")
def put_profile(
    address: AddressPath,
    body: ProfileRequest,
    ctx: ContextDep,
    session: SessionDep,
    caller: OperatorParticipant,
) -> ProfileView:
    check_uscc("uscc", body.uscc)
    hashed = verify_registered(session, address.lower(), body.uscc)
    return save_profile(ctx.engine, address.lower(), body.legal_name, body.uscc, hashed, caller.address)


@router.get("/{address}/profile", summary="A participant's directory entry (itself, regulator, operator)")
def get_profile(address: AddressPath, caller: CurrentParticipant, ctx: ContextDep) -> ProfileView:
    if not (caller.sees_everything or caller.address == address.lower()):
        raise Forbidden(
            "a participant's profile is read by the participant itself, a REGULATOR or the OPERATOR"
        )
    return read_profile(ctx.engine, address.lower())


@router.post("/{address}/status", summary="Suspend or reinstate a participant (operator)")
def set_status(
    address: AddressPath, body: StatusRequest, ctx: ContextDep, _: OperatorParticipant, writer: WriterDep
) -> WriteResult[StatusChangedResult]:
    status = ParticipantStatus.ACTIVE if body.status == "active" else ParticipantStatus.SUSPENDED
    return writer.run(
        lambda signer, key: ctx.client.set_status(signer, to_checksum_address(address), status, key=key)
    )


class SizeClassRequest(RequestModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"size_class": "small"}]})

    size_class: SizeClassName = Field(description=SIZE_CLASS_HELP)


class SizeClassResult(BaseModel):
    """The size class recorded for `account` (`SizeClassSet`), and the one it replaced."""

    account: str
    previous: SizeClassShown
    current: SizeClassShown


@router.put("/{address}/size-class", summary="Record a participant's size class (operator)")
def put_size_class(
    address: AddressPath,
    body: SizeClassRequest,
    ctx: ContextDep,
    session: SessionDep,
    _: OperatorParticipant,
    writer: WriterDep,
) -> WriteResult[SizeClassResult]:
    if session.get(ParticipantRow, address.lower()) is None:
        raise NotFound(f"participant {address} not found")
    cls = SizeClass.parse(body.size_class)
    return writer.run(
        lambda signer, key: ctx.client.set_size_class(signer, to_checksum_address(address), cls, key=key)
    )


class ObligorRecordView(BaseModel):
    """An obligor's overdue record (docs/compliance.md): three overdue obligations within the window
    (182 days, first strike to last) suspend its issuance for two years."""

    address: str
    size_class: SizeClassShown
    strikes: list[str] = Field(
        description="the last (up to three) overdue strikes, oldest first, ISO 8601 UTC",
        examples=[["2026-03-01T00:00:00Z", "2026-05-10T08:30:00Z"]],
    )
    overdue_count: int = Field(description="every overdue ever recorded for the obligor")
    suspended_until: str | None = Field(
        description="end of the latest suspension (ISO 8601 UTC), null when never suspended"
    )
    suspended: bool = Field(description="whether issuance is suspended now (at the latest block's time)")
    as_of: str = Field(description="the latest block's time the answer is read at (ISO 8601 UTC)")


def _iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat().replace("+00:00", "Z")


@router.get(
    "/{address}/record", summary="A core enterprise's overdue record and suspension (any participant)"
)
def obligor_record(
    address: AddressPath, caller: CurrentParticipant, ctx: ContextDep, session: SessionDep
) -> ObligorRecordView:
    # Public, as on-chain (`obligorRecord`): a supplier weighs an obligor's record before taking its paper.
    row = session.get(ParticipantRow, address.lower())
    if row is None:
        raise NotFound(f"participant {address} not found")
    if "CORE_ENTERPRISE" not in row.roles:
        raise Unprocessable(
            f"{address} is not a core enterprise (roles: {', '.join(sorted(row.roles)) or 'none'}): only an "
            "obligor has an overdue record",
            field="address",
        )
    who = to_checksum_address(address)
    record = ctx.client.obligor_record(who)
    now = chain_now(ctx.client)
    until = record.suspended_until
    return ObligorRecordView(
        address=row.address,
        size_class=_size_class(ctx.client, who),
        strikes=[_iso(t) for t in sorted(t for t in record.strikes if t)],
        overdue_count=record.overdue_count,
        suspended_until=_iso(until) if until else None,
        suspended=record.suspended_at(now),
        as_of=_iso(now),
    )


@router.post("/{address}/api-keys", status_code=201, summary="Issue an API key (operator)")
def issue_key(
    address: AddressPath, body: KeyRequest, ctx: ContextDep, session: SessionDep, _: OperatorParticipant
) -> IssuedKey:
    if session.get(ParticipantRow, address.lower()) is None:
        raise NotFound(f"participant {address} not found")
    key_id, api_key = issue_api_key(ctx.engine, address, [s.value for s in body.scopes])
    return IssuedKey(key_id=key_id, api_key=api_key)


@router.get("/{address}/api-keys", summary="A participant's API keys, without secrets (operator)")
def list_keys(address: AddressPath, ctx: ContextDep, _: OperatorParticipant) -> list[KeyView]:
    return [KeyView(**row) for row in list_api_keys(ctx.engine, address)]


@router.delete("/{address}/api-keys/{key_id}", status_code=204, summary="Revoke an API key (operator)")
def revoke_key(address: AddressPath, key_id: str, ctx: ContextDep, _: OperatorParticipant) -> None:
    if not revoke_api_key(ctx.engine, address, key_id):
        raise NotFound(f"no live API key {key_id} for {address}")
    ctx.watch.expire()  # the key stops working in this process at once (elsewhere within the interval)


__all__ = ["Role", "router"]
