"""The participant directory: each participant's legal name and unified social credit code (USCC),
recorded off-chain by the operator and checked against the legal-id hash the registry holds on-chain
(keccak256 of the USCC's text, as onboarding computes it). Regulatory exports name parties by it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import Engine, delete, insert, select
from sqlmodel import Session

from api.errors import NotFound, RefusedField, Unprocessable
from api.tables import participant_profiles
from ledger.indexer.models import Participant
from ledger.regulatory.directory import NO_LEGAL_NAME
from ledger.regulatory.uscc import legal_id_hash, uscc_problem

LegalName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="the registered legal name (法定名称), e.g. 华信汽车股份有限公司",
        examples=["华信汽车股份有限公司"],
    ),
]


class ProfileView(BaseModel):
    address: str
    legal_name: str | None
    uscc: str | None = Field(description="unified social credit code (统一社会信用代码)")
    legal_id_hash: str | None = Field(description="the registry's hash the USCC was verified against")
    on_file: bool
    note: str | None = Field(default=None, description=f"`{NO_LEGAL_NAME}` when the directory holds none")
    updated_by: str | None = None
    updated_at: datetime | None = None


def check_uscc(field: str, code: str) -> None:
    """Refuse (422 naming `field`) a code that is not a valid USCC under GB 32100-2015."""
    problem = uscc_problem(code)
    if problem is not None:
        raise RefusedField(field, f"{code!r} is not a unified social credit code: {problem}")


def verify_registered(session: Session, address: str, code: str) -> str:
    """The registry's legal-id hash of `address`, when `code` hashes to it; 404 / 422 otherwise."""
    row = session.get(Participant, address)
    if row is None or row.legal_id_hash is None:
        raise NotFound(f"participant {address} not found")
    computed = legal_id_hash(code)
    if computed != row.legal_id_hash:
        raise Unprocessable(
            f"the unified social credit code {code} does not match the legal id registered on-chain for "
            f"{address}: keccak256 of it is {computed}, the registry holds {row.legal_id_hash}",
            field="uscc",
        )
    return computed


def save_profile(
    engine: Engine, address: str, legal_name: str, uscc: str, hashed: str, by: str
) -> ProfileView:
    values = {
        "address": address,
        "legal_name": legal_name.strip(),
        "uscc": uscc,
        "legal_id_hash": hashed,
        "updated_by": by,
        "updated_at": datetime.now(UTC),
    }
    with engine.begin() as connection:
        connection.execute(delete(participant_profiles).where(participant_profiles.c.address == address))
        connection.execute(insert(participant_profiles).values(**values))
    return ProfileView(on_file=True, **values)


def read_profile(engine: Engine, address: str) -> ProfileView:
    c = participant_profiles.c
    with engine.connect() as connection:
        row = connection.execute(select(participant_profiles).where(c.address == address)).mappings().first()
    if row is None:
        return ProfileView(
            address=address, legal_name=None, uscc=None, legal_id_hash=None, on_file=False, note=NO_LEGAL_NAME
        )
    return ProfileView(on_file=True, **dict(row))
