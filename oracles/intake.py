"""Load signed documents from files or a batch, reporting every bad record precisely.

Sources: a JSON file (one signed document or a list of them), a CSV file (one row per document:
a ``kind`` column, the document's fields, ``signature`` and ``certificate_chain``), a folder
(every ``.json`` and ``.csv`` in it, not recursive), or a batch of dicts as the HTTP layer
passes them. In a CSV the chain cell holds the PEM text or the name of a PEM file in the CSV's
folder, and an empty cell means the field is absent; rows are numbered as a spreadsheet shows
them (header = row 1). JSON list items are numbered from 1. Amounts in JSON may be integers,
which are read as minor units, or printed text; CSV cells are always printed text.

One bad record never stops the others: it becomes an ``IntakeError`` naming the source, the
row, the field path and a plain sentence, and the rest of the batch goes through.
"""

import csv
import json
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from oracles.documents import DocumentKind
from oracles.reasons import ReasonCode
from oracles.signatures import SignedDocument

logger = logging.getLogger(__name__)

_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)
_ENVELOPE = ("signature", "certificate_chain")
_TAGS = {kind.name for kind in DocumentKind}
_PLAIN: dict[str, str] = {
    "missing": "is required but missing",
    "extra_forbidden": "is not a field of this kind of document",
    "invalid_kind": "kind must be invoice, purchase_order, delivery_note or warehouse_receipt (or 1-4)",
    "string_type": "must be text",
    "list_type": "must be a list",
    "too_short": "needs at least one entry",
    "model_type": "must be an object with named fields",
    "model_attributes_type": "must be an object with named fields",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
}


class IntakeError(BaseModel):
    """One record that could not be read, located precisely enough to fix it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    row: int | None = None
    field: str | None = None
    reason: str
    code: ReasonCode = ReasonCode.MALFORMED

    def __str__(self) -> str:
        where = self.source + (f" row {self.row}" if self.row is not None else "")
        return f"{where}: {self.field or 'record'}: {self.reason}"


class IntakeResult(BaseModel):
    """Documents that parsed and records that did not."""

    model_config = ConfigDict(extra="forbid")

    accepted: list[SignedDocument] = []
    rejected: list[IntakeError] = []

    def extend(self, other: "IntakeResult") -> None:
        self.accepted.extend(other.accepted)
        self.rejected.extend(other.rejected)


def _field_path(error: ErrorDetails) -> str | None:
    parts = [str(p) for p in error["loc"] if p not in _TAGS]
    if error["type"] == "invalid_kind":
        parts.append("kind")  # the discriminator reports at the document, but kind is what to fix
    return ".".join(parts) or None


def _sentence(error: ErrorDetails) -> str:
    if error["type"] in _PLAIN:
        return _PLAIN[error["type"]]
    return error["msg"].removeprefix("Value error, ")


def _parse(record: object, source: str, row: int | None) -> SignedDocument | list[IntakeError]:
    try:
        return SignedDocument.model_validate(record)
    except ValidationError as exc:
        return [
            IntakeError(source=source, row=row, field=_field_path(error), reason=_sentence(error))
            for error in exc.errors()
        ]


def _validate(record: object, source: str, row: int | None, result: IntakeResult) -> None:
    parsed = _parse(record, source, row)
    if isinstance(parsed, SignedDocument):
        result.accepted.append(parsed)
    else:
        result.rejected.extend(parsed)


def validate_each(
    records: Iterable[object], source: str = "batch"
) -> list[SignedDocument | list[IntakeError]]:
    """Per record, in order: the document, or every reason it cannot be read (rows from 1)."""
    return [_parse(_envelope(record), source, index) for index, record in enumerate(records, start=1)]


def _split_chain(value: object) -> object:
    if isinstance(value, str) and "BEGIN CERTIFICATE" in value:
        return _PEM.findall(value)
    return value


def _envelope(record: object) -> object:
    if isinstance(record, Mapping) and "certificate_chain" in record:
        return {**record, "certificate_chain": _split_chain(record["certificate_chain"])}
    return record


def load_batch(records: Iterable[object], source: str = "batch") -> IntakeResult:
    """Validate records already decoded from JSON (e.g. an HTTP request body)."""
    result = IntakeResult()
    for index, record in enumerate(records, start=1):
        _validate(_envelope(record), source, index, result)
    logger.info(
        "intake source=%s accepted=%d rejected=%d", source, len(result.accepted), len(result.rejected)
    )
    return result


def load_json_file(path: Path) -> IntakeResult:
    """One signed document, or a list of them."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return IntakeResult(rejected=[IntakeError(source=str(path), reason=f"cannot read JSON: {exc}")])
    if isinstance(data, list):
        return load_batch(data, source=str(path))
    result = IntakeResult()
    _validate(_envelope(data), str(path), None, result)
    return result


def _chain_cell(cell: str, folder: Path) -> object:
    if "BEGIN CERTIFICATE" in cell:
        return _PEM.findall(cell)
    target = (folder / cell).resolve()
    if not target.is_relative_to(folder.resolve()) or not target.is_file():
        raise ValueError(f"certificate file {cell!r} is not a file in {folder}")
    return _PEM.findall(target.read_text(encoding="ascii"))


def _csv_record(row: Mapping[str, str | None], folder: Path) -> dict[str, Any]:
    cells = {k.strip(): v.strip() for k, v in row.items() if k is not None and v is not None and v.strip()}
    record: dict[str, Any] = {k: cells.pop(k) for k in _ENVELOPE if k in cells}
    if "certificate_chain" in record:
        record["certificate_chain"] = _chain_cell(record["certificate_chain"], folder)
    record["document"] = cells
    return record


def load_csv_file(path: Path) -> IntakeResult:
    """One document per row; see the module docstring for the columns."""
    result = IntakeResult()
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for row_number, row in enumerate(csv.DictReader(handle), start=2):
                try:
                    record = _csv_record(row, path.parent)
                except ValueError as exc:
                    result.rejected.append(
                        IntakeError(
                            source=str(path), row=row_number, field="certificate_chain", reason=str(exc)
                        )
                    )
                    continue
                _validate(record, str(path), row_number, result)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        result.rejected.append(IntakeError(source=str(path), reason=f"cannot read CSV: {exc}"))
    logger.info("intake source=%s accepted=%d rejected=%d", path, len(result.accepted), len(result.rejected))
    return result


def load_path(path: Path) -> IntakeResult:
    """Dispatch on what ``path`` is: a folder, a .json file or a .csv file."""
    if path.is_dir():
        result = IntakeResult()
        for child in sorted(path.iterdir()):
            if child.suffix.lower() in {".json", ".csv"} and child.is_file():
                result.extend(load_path(child))
        return result
    if path.suffix.lower() == ".csv":
        return load_csv_file(path)
    if path.suffix.lower() == ".json":
        return load_json_file(path)
    return IntakeResult(rejected=[IntakeError(source=str(path), reason="only .json and .csv files are read")])
