"""The trade documents the oracles verify, as validated pydantic models.

Values are normalized while the model is built (see ``normalize`` and ``money``), so two
printings of one document produce equal models and one canonical form. ``currency`` is declared
before the amounts on purpose: amount validators read it to know how many fraction digits the
currency allows. ``DocumentKind`` values are written on-chain and must never be renumbered.
"""

from datetime import date
from enum import IntEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Tag,
    ValidationInfo,
    field_validator,
)

from oracles.errors import DocumentFormatError
from oracles.money import normalize_currency, parse_minor_units
from oracles.normalize import (
    normalize_hash32,
    normalize_identifier,
    normalize_invoice_code,
    normalize_legal_id,
    parse_document_date,
)


class DocumentKind(IntEnum):
    """On-chain document kind; 0 is deliberately invalid so an unset value is never accepted."""

    INVOICE = 1
    PURCHASE_ORDER = 2
    DELIVERY_NOTE = 3
    WAREHOUSE_RECEIPT = 4


def coerce_kind(value: object) -> DocumentKind:
    """Accept a kind as its number, its name (any case, '-' or ' ' for '_') or the enum."""
    if isinstance(value, DocumentKind):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if value in DocumentKind._value2member_map_:
            return DocumentKind(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.isdigit() and int(text) in DocumentKind._value2member_map_:
            return DocumentKind(int(text))
        name = text.upper().replace("-", "_").replace(" ", "_")
        if name in DocumentKind.__members__:
            return DocumentKind[name]
    names = ", ".join(k.name.lower() for k in DocumentKind)
    raise DocumentFormatError(f"kind {value!r} is not one of {names} (or 1-4)")


Identifier = Annotated[str, BeforeValidator(normalize_identifier)]
InvoiceCode = Annotated[str | None, BeforeValidator(normalize_invoice_code)]
LegalId = Annotated[str, BeforeValidator(normalize_legal_id)]
DocDate = Annotated[date, BeforeValidator(parse_document_date)]
Hash32 = Annotated[str, BeforeValidator(normalize_hash32)]
Currency = Annotated[str, BeforeValidator(normalize_currency)]


def _quantity(value: object) -> int:
    """Quantities are whole units; text may use the same grouping marks as amounts."""
    return parse_minor_units(value, "JPY")  # exponent 0: whole numbers only


Quantity = Annotated[int, BeforeValidator(_quantity)]


class _Document(BaseModel):
    """Shared configuration and the amount reader for every document kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    money_fields: ClassVar[tuple[str, ...]] = ()

    currency: Currency

    @field_validator("*", mode="before")
    @classmethod
    def _read_money(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name not in cls.money_fields:
            return value
        currency = info.data.get("currency")
        if currency is None:
            raise DocumentFormatError("amount cannot be read because the currency is missing or invalid")
        return parse_minor_units(value, currency)


class Invoice(_Document):
    """A VAT invoice (e.g. a Chinese e-invoice: fully digital ones have no invoice code)."""

    money_fields = ("amount_without_tax", "tax_amount", "total_with_tax")
    kind: Annotated[Literal[DocumentKind.INVOICE], BeforeValidator(coerce_kind)] = DocumentKind.INVOICE
    invoice_code: InvoiceCode = None
    invoice_number: Identifier
    issue_date: DocDate
    seller_tax_id: LegalId
    buyer_tax_id: LegalId
    amount_without_tax: int
    tax_amount: int
    total_with_tax: int
    line_items_hash: Hash32
    due_date: DocDate | None = None


class PurchaseOrder(_Document):
    """A buyer's order; the buyer issues it, so its number is unique per buyer."""

    money_fields = ("amount",)
    kind: Annotated[Literal[DocumentKind.PURCHASE_ORDER], BeforeValidator(coerce_kind)] = (
        DocumentKind.PURCHASE_ORDER
    )
    po_number: Identifier
    buyer_tax_id: LegalId
    seller_tax_id: LegalId
    order_date: DocDate
    amount: int
    line_items_hash: Hash32


class DeliveryNote(_Document):
    """A carrier's delivery/receiving note, pointing at the invoice it delivers against."""

    money_fields = ("amount",)
    kind: Annotated[Literal[DocumentKind.DELIVERY_NOTE], BeforeValidator(coerce_kind)] = (
        DocumentKind.DELIVERY_NOTE
    )
    note_number: Identifier
    carrier_tax_id: LegalId
    invoice_code: InvoiceCode = None
    invoice_number: Identifier
    seller_tax_id: LegalId
    buyer_tax_id: LegalId
    delivery_date: DocDate
    quantity: Quantity
    amount: int


class WarehouseReceipt(_Document):
    """A warehouse's receipt for goods deposited by a supplier."""

    money_fields = ("amount",)
    kind: Annotated[Literal[DocumentKind.WAREHOUSE_RECEIPT], BeforeValidator(coerce_kind)] = (
        DocumentKind.WAREHOUSE_RECEIPT
    )
    receipt_number: Identifier
    warehouse_id: Identifier
    depositor_tax_id: LegalId
    goods_description_hash: Hash32
    quantity: Quantity
    amount: int
    issue_date: DocDate


def _kind_tag(value: Any) -> str | None:
    raw = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    try:
        return coerce_kind(raw).name
    except DocumentFormatError:
        return None


TradeDocument = Annotated[
    Annotated[Invoice, Tag(DocumentKind.INVOICE.name)]
    | Annotated[PurchaseOrder, Tag(DocumentKind.PURCHASE_ORDER.name)]
    | Annotated[DeliveryNote, Tag(DocumentKind.DELIVERY_NOTE.name)]
    | Annotated[WarehouseReceipt, Tag(DocumentKind.WAREHOUSE_RECEIPT.name)],
    Discriminator(
        _kind_tag,
        custom_error_type="invalid_kind",
        custom_error_message="kind must be invoice, purchase_order, delivery_note or warehouse_receipt (1-4)",
    ),
]


def parties(document: TradeDocument) -> tuple[str, str | None]:
    """(seller, buyer) legal ids; a warehouse receipt has a depositor and no buyer."""
    if isinstance(document, WarehouseReceipt):
        return document.depositor_tax_id, None
    return document.seller_tax_id, document.buyer_tax_id


def face_amount(document: TradeDocument) -> int:
    """The amount a receivable built on this document is worth (invoices: total with tax)."""
    if isinstance(document, Invoice):
        return document.total_with_tax
    return document.amount


def document_date(document: TradeDocument) -> date:
    """The date the document was issued, ordered or delivered."""
    if isinstance(document, PurchaseOrder):
        return document.order_date
    if isinstance(document, DeliveryNote):
        return document.delivery_date
    return document.issue_date


def due_date(document: TradeDocument) -> date | None:
    """Only invoices carry a payment due date."""
    return document.due_date if isinstance(document, Invoice) else None
