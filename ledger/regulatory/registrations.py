"""中登网 registration records: for every accepted financing, the fields an accounts-receivable
transfer registration (应收账款转让登记) on the PBoC's 动产融资统一登记公示系统 asks for — the
transferor (出让人, the holder who sold) and transferee (受让人, the bank), the property description
(the obligation, its obligor, face, currency and maturity; the financed piece, its value and lineage
back to the root; the trade documents backing the obligation), the financing amount (the price the
bank paid), the discount rate and the financing date, block and transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from ledger.indexer.models import Document, Event, Financing, Obligation, Token
from ledger.regulatory.csvout import render, yuan
from ledger.regulatory.directory import Directory, Party, load_directory, party
from ledger.regulatory.period import Period, shanghai_date

REGISTRATION_TYPE = "应收账款转让"
REGISTRATION_TYPE_EN = "accounts receivable transfer"


class TradeDocument(BaseModel):
    fingerprint: str
    kind: str | None
    amount: int | None = Field(description="minor units; null if the document is not indexed")
    seller: str | None
    buyer: str | None


class PropertyDescription(BaseModel):
    """What is transferred: a piece of one obligation, traced to its root and its trade documents."""

    slot: int = Field(description="the obligation (ERC-3525 slot)")
    obligor: Party
    face: int = Field(description="the obligation's face, minor units")
    currency: str | None = Field(description="ISO 4217 code")
    maturity: int = Field(description="unix seconds")
    maturity_date: str = Field(description="Asia/Shanghai date")
    financed_token_id: int
    value: int = Field(description="the financed piece's value, minor units")
    lineage: list[int] = Field(description="token ids from the obligation's root down to the financed piece")
    documents: list[TradeDocument]


class RegistrationRecord(BaseModel):
    registration_type: str = Field(default=REGISTRATION_TYPE, description="登记类型: 应收账款转让")
    registration_type_en: str = REGISTRATION_TYPE_EN
    offer_id: int
    transferor: Party = Field(description="出让人: the holder who sold the piece")
    transferee: Party = Field(description="受让人: the bank")
    property: PropertyDescription
    financing_amount: int = Field(description="融资金额: the price the bank paid, minor units")
    discount: int = Field(description="value - price, minor units")
    rate_bps: int = Field(description="yearly discount rate, basis points")
    day_count: str
    recourse: bool
    financing_date: str = Field(description="Asia/Shanghai date of the block that settled it")
    financed_at: int = Field(description="unix seconds")
    block_number: int
    tx_hash: str | None
    registration_number: str | None = Field(
        default=None, description="登记编号: the number 中登网 gave, once the bank recorded it on-chain"
    )


class RegistrationExport(BaseModel):
    period_from: str = Field(description="first day (Asia/Shanghai), or `start`")
    period_to: str = Field(description="last day (Asia/Shanghai), or `head`")
    count: int
    records: list[RegistrationRecord]


def _lineage(session: Session, token_id: int) -> list[int]:
    path: list[int] = []
    current: int | None = token_id
    while current is not None and len(path) < 10_000:
        path.append(current)
        token = session.get(Token, current)
        current = token.parent_id if token is not None else None
    return path[::-1]


def _financed_txs(session: Session) -> dict[int, str]:
    events = session.exec(
        select(Event).where(col(Event.contract) == "FinancingDesk", col(Event.name) == "Financed")
    ).all()
    return {int(e.args["offerId"]): e.tx_hash for e in events}


def _document(session: Session, fingerprint: str) -> TradeDocument:
    d = session.get(Document, fingerprint)
    if d is None:
        return TradeDocument(fingerprint=fingerprint, kind=None, amount=None, seller=None, buyer=None)
    return TradeDocument(
        fingerprint=fingerprint, kind=d.kind, amount=d.amount, seller=d.seller, buyer=d.buyer
    )


def _property(
    session: Session, obligation: Obligation, directory: Directory, token_id: int, value: int
) -> PropertyDescription:
    """What a registration transfers: `value` of piece `token_id` of `obligation`, traced to its root."""
    return PropertyDescription(
        slot=obligation.slot,
        obligor=party(directory, obligation.obligor),
        face=obligation.face,
        currency=obligation.currency_code,
        maturity=obligation.maturity,
        maturity_date=shanghai_date(obligation.maturity).isoformat(),
        financed_token_id=token_id,
        value=value,
        lineage=_lineage(session, token_id),
        documents=[_document(session, fp) for fp in obligation.documents],
    )


def record(
    session: Session, f: Financing, directory: Directory, txs: dict[int, str] | None = None
) -> RegistrationRecord | None:
    """The registration record of an accepted offer (None for one still open or cancelled)."""
    if f.status != "financed" or f.financed_token_id is None or f.holder is None:
        return None
    piece = session.get(Token, f.financed_token_id)
    obligation = session.get(Obligation, piece.slot) if piece is not None else None
    if piece is None or obligation is None:
        return None
    txs = _financed_txs(session) if txs is None else txs
    financed_at = f.financed_at or 0
    return RegistrationRecord(
        offer_id=f.offer_id,
        transferor=party(directory, f.holder),
        transferee=party(directory, f.bank),
        property=_property(session, obligation, directory, f.financed_token_id, f.value),
        financing_amount=f.price or 0,
        discount=f.discount or 0,
        rate_bps=f.rate_bps,
        day_count=f.day_count,
        recourse=f.recourse,
        financing_date=shanghai_date(financed_at).isoformat(),
        financed_at=financed_at,
        block_number=f.closed_block or 0,
        tx_hash=txs.get(f.offer_id),
        registration_number=f.registration_number,
    )


class BackingDocument(TradeDocument):
    backed_value: int = Field(description="how much of this move the document backed, minor units")


class TransferRegistrationRecord(BaseModel):
    """The registration record of a trade-backed transfer (a supplier paying its supplier with a piece),
    for a party that registers it on request: the same property description as a financing's, the
    trade documents that backed this move (`backing_documents`, with the value each backed), and the
    transfer's value and date in place of the financing's price."""

    registration_type: str = Field(default=REGISTRATION_TYPE, description="登记类型: 应收账款转让")
    registration_type_en: str = REGISTRATION_TYPE_EN
    transferor: Party = Field(description="出让人: the holder who paid with the piece")
    transferee: Party = Field(description="受让人: its supplier, who received the piece")
    property: PropertyDescription
    backing_documents: list[BackingDocument] = Field(description="the documents of this move (贸易背景)")
    transfer_value: int = Field(description="转让金额: minor units")
    transfer_date: str = Field(description="Asia/Shanghai date of the block")
    transferred_at: int = Field(description="unix seconds")
    block_number: int
    tx_hash: str


def transfer_records(session: Session, token_id: int) -> list[TransferRegistrationRecord]:
    """The registration records of the trade-backed moves that delivered `token_id` (oldest first): the
    piece a payment created, or a whole token paid on; empty when it never moved that way."""
    moves = [
        e
        for e in session.exec(
            select(Event)
            .where(col(Event.contract) == "IssuanceDesk", col(Event.name) == "TradeBackedMove")
            .order_by(col(Event.block_number), col(Event.log_index))
        ).all()
        if int(e.args["pieceId"]) == token_id
    ]
    piece = session.get(Token, token_id)
    obligation = session.get(Obligation, piece.slot) if piece is not None else None
    if not moves or piece is None or obligation is None:
        return []
    directory = load_directory(session.connection())
    # The same piece in every record: its lineage and the obligation's documents are read once.
    piece_property = _property(session, obligation, directory, token_id, 0)
    records = []
    for move in moves:
        payer, receiver = move.args["payer"], move.args["receiver"]
        backing = [
            e
            for e in session.exec(
                select(Event).where(
                    col(Event.tx_hash) == move.tx_hash,
                    col(Event.contract) == "TradeRegistry",
                    col(Event.name) == "DocumentBackedMove",
                )
            ).all()
            if e.args["receiver"] == receiver and e.args["payer"] == payer
        ]
        value = int(move.args["value"])
        records.append(
            TransferRegistrationRecord(
                transferor=party(directory, payer),
                transferee=party(directory, receiver),
                property=piece_property.model_copy(update={"value": value}),
                backing_documents=[
                    BackingDocument(
                        **_document(session, e.args["fingerprint"]).model_dump(),
                        backed_value=int(e.args["value"]),
                    )
                    for e in backing
                ],
                transfer_value=value,
                transfer_date=shanghai_date(move.block_timestamp).isoformat(),
                transferred_at=move.block_timestamp,
                block_number=move.block_number,
                tx_hash=move.tx_hash,
            )
        )
    return records


TRANSFER_COLUMNS: Sequence[tuple[str, Callable[[TransferRegistrationRecord], object]]] = (
    ("登记类型(registration_type)", lambda r: r.registration_type),
    ("出让人名称(transferor_name)", lambda r: r.transferor.display_name()),
    ("出让人统一社会信用代码(transferor_uscc)", lambda r: r.transferor.uscc),
    ("出让人地址(transferor_address)", lambda r: r.transferor.address),
    ("受让人名称(transferee_name)", lambda r: r.transferee.display_name()),
    ("受让人统一社会信用代码(transferee_uscc)", lambda r: r.transferee.uscc),
    ("受让人地址(transferee_address)", lambda r: r.transferee.address),
    ("应收账款编号(obligation_slot)", lambda r: r.property.slot),
    ("债务人名称(obligor_name)", lambda r: r.property.obligor.display_name()),
    ("债务人统一社会信用代码(obligor_uscc)", lambda r: r.property.obligor.uscc),
    ("票面金额分(face_minor)", lambda r: r.property.face),
    ("币种(currency)", lambda r: r.property.currency),
    ("到期日(maturity_date)", lambda r: r.property.maturity_date),
    ("转让凭证编号(token_id)", lambda r: r.property.financed_token_id),
    ("转让金额分(value_minor)", lambda r: r.transfer_value),
    ("转让金额元(value_yuan)", lambda r: yuan(r.transfer_value)),
    ("拆分路径(lineage)", lambda r: ">".join(str(t) for t in r.property.lineage)),
    ("贸易背景单据(backing_documents)", lambda r: ";".join(d.fingerprint for d in r.backing_documents)),
    ("转让日期(transfer_date)", lambda r: r.transfer_date),
    ("区块高度(block_number)", lambda r: r.block_number),
    ("交易哈希(tx_hash)", lambda r: r.tx_hash),
)


def transfers_to_csv(records: Sequence[TransferRegistrationRecord]) -> str:
    return render(
        [h for h, _ in TRANSFER_COLUMNS], ([get(r) for _, get in TRANSFER_COLUMNS] for r in records)
    )


def registrations(session: Session, period: Period) -> RegistrationExport:
    """Every financing settled in `period`, oldest first."""
    directory = load_directory(session.connection())
    txs = _financed_txs(session)
    offers = session.exec(
        select(Financing)
        .where(
            col(Financing.status) == "financed",
            col(Financing.financed_at) >= period.since,
            col(Financing.financed_at) < period.until,
        )
        .order_by(col(Financing.financed_at), col(Financing.offer_id))
    ).all()
    records = [r for f in offers if (r := record(session, f, directory, txs)) is not None]
    return RegistrationExport(
        period_from=period.first,
        period_to=period.last,
        count=len(records),
        records=records,
    )


Column = tuple[str, Callable[[RegistrationRecord], object]]
COLUMNS: Sequence[Column] = (
    ("登记类型(registration_type)", lambda r: r.registration_type),
    ("融资编号(offer_id)", lambda r: r.offer_id),
    ("出让人名称(transferor_name)", lambda r: r.transferor.display_name()),
    ("出让人统一社会信用代码(transferor_uscc)", lambda r: r.transferor.uscc),
    ("出让人地址(transferor_address)", lambda r: r.transferor.address),
    ("受让人名称(transferee_name)", lambda r: r.transferee.display_name()),
    ("受让人统一社会信用代码(transferee_uscc)", lambda r: r.transferee.uscc),
    ("受让人地址(transferee_address)", lambda r: r.transferee.address),
    ("应收账款编号(obligation_slot)", lambda r: r.property.slot),
    ("债务人名称(obligor_name)", lambda r: r.property.obligor.display_name()),
    ("债务人统一社会信用代码(obligor_uscc)", lambda r: r.property.obligor.uscc),
    ("债务人地址(obligor_address)", lambda r: r.property.obligor.address),
    ("票面金额分(face_minor)", lambda r: r.property.face),
    ("票面金额元(face_yuan)", lambda r: yuan(r.property.face)),
    ("币种(currency)", lambda r: r.property.currency),
    ("到期日(maturity_date)", lambda r: r.property.maturity_date),
    ("转让凭证编号(financed_token_id)", lambda r: r.property.financed_token_id),
    ("转让金额分(value_minor)", lambda r: r.property.value),
    ("转让金额元(value_yuan)", lambda r: yuan(r.property.value)),
    ("拆分路径(lineage)", lambda r: ">".join(str(t) for t in r.property.lineage)),
    ("贸易单据指纹(document_fingerprints)", lambda r: ";".join(d.fingerprint for d in r.property.documents)),
    ("融资金额分(financing_amount_minor)", lambda r: r.financing_amount),
    ("融资金额元(financing_amount_yuan)", lambda r: yuan(r.financing_amount)),
    ("贴现息分(discount_minor)", lambda r: r.discount),
    ("贴现率基点(rate_bps)", lambda r: r.rate_bps),
    ("计息基础(day_count)", lambda r: r.day_count),
    ("是否有追索权(recourse)", lambda r: "是(yes)" if r.recourse else "否(no)"),
    ("融资日期(financing_date)", lambda r: r.financing_date),
    ("区块高度(block_number)", lambda r: r.block_number),
    ("交易哈希(tx_hash)", lambda r: r.tx_hash),
    ("登记编号(registration_number)", lambda r: r.registration_number),
)


def to_csv(records: Sequence[RegistrationRecord]) -> str:
    return render([h for h, _ in COLUMNS], ([get(r) for _, get in COLUMNS] for r in records))
