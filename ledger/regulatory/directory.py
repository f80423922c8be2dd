"""The participant directory as the exports read it: legal name and unified social credit code per
address, recorded off-chain by the operator (the API's `participant_profiles` table, beside the
indexer's tables in the same database). A database without that table reads as an empty directory."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import Connection, column, inspect, select, table

NO_LEGAL_NAME = "no legal name on file"
NO_LEGAL_NAME_ZH = "未登记名称"

PROFILES = table("participant_profiles", column("address"), column("legal_name"), column("uscc"))


class Party(BaseModel):
    """A participant as an export names it: its address, and its legal name and code when on file."""

    address: str
    legal_name: str | None = Field(description="registered Chinese legal name; null when not on file")
    uscc: str | None = Field(
        description="unified social credit code (统一社会信用代码); null when not on file"
    )
    on_file: bool = Field(description="whether the directory holds this participant")
    note: str | None = Field(default=None, description=f"`{NO_LEGAL_NAME}` when not on file")

    def display_name(self) -> str:
        return self.legal_name if self.legal_name else f"{NO_LEGAL_NAME_ZH}({NO_LEGAL_NAME})"


Directory = dict[str, tuple[str, str]]


def load_directory(connection: Connection) -> Directory:
    """address → (legal name, USCC) for every participant on file."""
    if not inspect(connection).has_table("participant_profiles"):
        return {}
    rows = connection.execute(select(PROFILES.c.address, PROFILES.c.legal_name, PROFILES.c.uscc))
    return {str(a): (str(n), str(u)) for a, n, u in rows}


def party(directory: Directory, address: str) -> Party:
    found = directory.get(address.lower())
    if found is None:
        return Party(address=address.lower(), legal_name=None, uscc=None, on_file=False, note=NO_LEGAL_NAME)
    return Party(address=address.lower(), legal_name=found[0], uscc=found[1], on_file=True)
