"""Intake: good records pass, each bad one is reported with its source, row, field and reason."""

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oracles.intake import IntakeError, load_batch, load_csv_file, load_json_file, load_path
from oracles.signatures import SignedDocument


def _envelope(signed: SignedDocument, **document_overrides: Any) -> dict[str, Any]:
    document = signed.document.model_dump(mode="json")
    document.update(document_overrides)
    for key in [k for k, v in document_overrides.items() if v is None]:
        del document[key]
    return {
        "document": document,
        "signature": signed.signature,
        "certificate_chain": signed.certificate_chain,
    }


def _where(errors: list[IntakeError]) -> set[tuple[int | None, str | None]]:
    return {(e.row, e.field) for e in errors}


def test_batch_keeps_good_records_and_explains_bad_ones(
    sign: Callable[..., SignedDocument], make_invoice: Callable[..., Any]
) -> None:
    good = sign(make_invoice())
    records = [
        _envelope(good),
        _envelope(good, issue_date="03/01/2026"),
        _envelope(good, invoice_number=None),
        _envelope(good, total_with_tax="1,130.005"),
        _envelope(good, colour="blue"),
        _envelope(good, kind="receipt"),
        {**_envelope(good), "signature": "not base64!"},
        {**_envelope(good), "certificate_chain": []},
        "not an object",
    ]
    result = load_batch(records, source="api")
    assert len(result.accepted) == 1
    assert _where(result.rejected) == {
        (2, "document.issue_date"),
        (3, "document.invoice_number"),
        (4, "document.total_with_tax"),
        (5, "document.colour"),
        (6, "document.kind"),
        (7, "signature"),
        (8, "certificate_chain"),
        (9, None),
    }
    reasons = {e.row: e.reason for e in result.rejected}
    assert "ambiguous" in reasons[2]
    assert reasons[3] == "is required but missing"
    assert "refusing to round" in reasons[4]
    assert reasons[5] == "is not a field of this kind of document"
    assert "kind must be" in reasons[6]
    assert str(result.rejected[0]).startswith("api row 2: document.issue_date: ")


def test_json_file_single_and_list(
    tmp_path: Path, sign: Callable[..., SignedDocument], make_invoice: Callable[..., Any]
) -> None:
    signed = sign(make_invoice())
    single = tmp_path / "one.json"
    single.write_text(json.dumps(_envelope(signed)))
    assert len(load_json_file(single).accepted) == 1
    bundle = {**_envelope(signed), "certificate_chain": "".join(signed.certificate_chain)}
    many = tmp_path / "many.json"
    many.write_text(json.dumps([bundle, _envelope(signed, currency="XYZ")]))
    result = load_json_file(many)
    assert result.accepted[0] == signed
    assert _where(result.rejected) == {
        (2, "document.currency"),
        (2, "document.amount_without_tax"),
        (2, "document.tax_amount"),
        (2, "document.total_with_tax"),
    }
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert "cannot read JSON" in load_json_file(broken).rejected[0].reason


def _csv_row(signed: SignedDocument, chain: str, **overrides: str) -> dict[str, str]:
    document = signed.document.model_dump(mode="json")
    row = {k: str(v) for k, v in document.items()}
    row.update(
        kind="Invoice", total_with_tax="113,000.00", amount_without_tax="100 000,00", tax_amount="13000"
    )
    row.update(signature=signed.signature, certificate_chain=chain)
    row.update(overrides)
    return row


def test_csv_rows_are_numbered_like_a_spreadsheet(
    tmp_path: Path, sign: Callable[..., SignedDocument], make_invoice: Callable[..., Any]
) -> None:
    signed = sign(make_invoice())
    (tmp_path / "chain.pem").write_text("".join(signed.certificate_chain))
    rows = [
        _csv_row(signed, "chain.pem"),
        _csv_row(signed, "".join(signed.certificate_chain), due_date=""),
        _csv_row(signed, "chain.pem", issue_date="2026-02-30"),
        _csv_row(signed, "../../etc/passwd"),
        _csv_row(signed, "chain.pem", kind=""),
    ]
    path = tmp_path / "invoices.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = load_csv_file(path)
    assert len(result.accepted) == 2
    assert result.accepted[0] == signed
    assert result.accepted[1].document.due_date is None  # type: ignore[union-attr]
    assert _where(result.rejected) == {
        (4, "document.issue_date"),
        (5, "certificate_chain"),
        (6, "document.kind"),
    }
    assert all(e.source == str(path) for e in result.rejected)


def test_folder_reads_json_and_csv_only(
    tmp_path: Path, sign: Callable[..., SignedDocument], make_invoice: Callable[..., Any]
) -> None:
    signed = sign(make_invoice())
    (tmp_path / "a.json").write_text(json.dumps([_envelope(signed)]))
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "b.csv").write_text("kind,invoice_number\ninvoice,1\n")
    result = load_path(tmp_path)
    assert len(result.accepted) == 1
    assert {e.source for e in result.rejected} == {str(tmp_path / "b.csv")}
    assert load_path(tmp_path / "notes.txt").rejected[0].reason == "only .json and .csv files are read"
