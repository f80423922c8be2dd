"""Projections: how each event changes the tables that answer questions (tokens, obligations, …).

The projector is a pure function of the event sequence: applied in (block, log index) order to empty
tables it rebuilds exactly what incremental ingestion built. That property carries reorg recovery
(`Indexer` rebuilds from the raw events after deleting the orphaned ones) and the tests check it.

Slot membership comes from `SlotChanged`: `(id, 0, slot)` at mint, `(id, slot, 0)` at burn (a burned
piece keeps its slot and lineage). Lineage comes from the token's own events: `_createToken` emits
`Transfer(0, to, id)` and `SlotChanged(id, 0, slot)`, then `_moveValue` emits
`TransferValue(parent, id, value)` (parent 0 for the root minted at slot creation). So the first
TransferValue into a token that was just minted names its parent; depth is the parent's + 1 and the
root is the parent's root.

Rows touched are cached by key for the life of the projector (one database transaction), because
objects added but not yet flushed are invisible to `Session.get`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from eth_utils.crypto import keccak
from sqlalchemy import insert
from sqlmodel import Session, SQLModel, col, select

from ledger.indexer.decode import ZERO_ADDRESS
from ledger.indexer.models import (
    ACCEPTED,
    DEFAULTED,
    OUTSTANDING,
    OVERDUE,
    PENDING,
    REPAID,
    RETURN_REASONS,
    Currency,
    Document,
    Financing,
    ForcedTransfer,
    Freeze,
    GovernanceProposal,
    Obligation,
    Participant,
    PendingMove,
    Proposal,
    RecourseClaim,
    Recovery,
    Redemption,
    Repayment,
    Token,
    Transfer,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A stored event as the projector reads it (a plain record: building ORM objects is slow)."""

    id: int
    block_number: int
    block_timestamp: int
    tx_hash: str
    log_index: int
    contract: str
    name: str
    args: dict[str, Any]


M = TypeVar("M", bound=SQLModel)

ROLE_NAMES: dict[str, str] = {
    "0x" + "00" * 32: "DEFAULT_ADMIN",
    **{
        "0x" + keccak(text=name).hex(): name
        for name in (
            "CORE_ENTERPRISE",
            "SUPPLIER",
            "BANK",
            "REGULATOR",
            "ORACLE",
            "ENFORCEMENT",
            "DESK",
            "ONBOARDING",
            "GUARDIAN",
            "POLICY",
        )
    },
}
PARTICIPANT_STATUS = ("none", "active", "suspended", "recovered")
DOCUMENT_KINDS = ("invalid", "invoice", "purchase_order", "delivery_note", "warehouse_receipt")
DAY_COUNTS = ("ACT/360", "ACT/365F")


def currency_code(raw: str) -> str:
    """A bytes3 ISO 4217 code (`0x434e59`) as text (`CNY`); unprintable codes stay hex."""
    data = bytes.fromhex(raw[2:])
    text = data.rstrip(b"\0").decode("ascii", errors="replace")
    return text if text.isalnum() and text.isascii() else raw


def _same_columns(table: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` with the union of their keys, a missing one filled with its column's scalar default."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    defaults = {}
    for name in names:
        default = table.c[name].default
        defaults[name] = default.arg if default is not None and default.is_scalar else None
    return [{name: row.get(name, defaults[name]) for name in names} for row in rows]


class Projector:
    """Applies decoded events, in chain order, to the projection tables of one database transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[tuple[type[SQLModel], Any], SQLModel] = {}
        # Tokens minted in this transaction whose first incoming TransferValue names the parent. A mint
        # and that TransferValue are always in one chain transaction, hence in one block and one batch.
        self._awaiting_parent: set[int] = set()
        # Settlement token address → ISO code, loaded lazily; history rows waiting for a bulk insert.
        self._codes: dict[str, str] | None = None
        self._history_rows: dict[type[SQLModel], list[dict[str, Any]]] = {}
        # Timelock operations scheduled in a transaction, by tx hash: the governor's `ProposalQueued`
        # follows its calls' `CallScheduled` in the same transaction and names the proposal.
        self._scheduled: dict[str, str] = {}
        # Recoveries by lost address (the latest row of each), kept across flushes: a request and its
        # approval or cancellation may fall in different batches, and rows added since the last flush are
        # invisible to a query.
        self._recoveries: dict[str, Recovery] = {}
        self._handlers: dict[tuple[str, str], Callable[[EventRecord], None]] = {
            ("ParticipantRegistry", "ParticipantRegistered"): self._participant_registered,
            ("ParticipantRegistry", "ParticipantStatusChanged"): self._participant_status,
            ("ParticipantRegistry", "RoleGranted"): self._role_granted,
            ("ParticipantRegistry", "RoleRevoked"): self._role_revoked,
            ("ParticipantRegistry", "RecoveryRequested"): self._recovery_requested,
            ("ParticipantRegistry", "ParticipantRecovered"): self._participant_recovered,
            ("ParticipantRegistry", "RecoveryCancelled"): self._recovery_cancelled,
            ("ReceivableToken", "TokenRecovered"): self._token_recovered,
            ("TradeRegistry", "DocumentAttested"): self._document_attested,
            ("TradeRegistry", "DocumentUsed"): self._document_used,
            ("ReceivableToken", "Transfer"): self._transfer,
            ("ReceivableToken", "SlotChanged"): self._slot_changed,
            ("ReceivableToken", "TransferValue"): self._transfer_value,
            ("ReceivableToken", "SlotCreated"): self._slot_created,
            ("ReceivableToken", "Frozen"): self._frozen,
            ("ReceivableToken", "Unfrozen"): self._unfrozen,
            ("ReceivableToken", "ForcedTransfer"): self._forced_transfer,
            ("ReceivableToken", "SlotBillMode"): self._slot_bill_mode,
            ("ReceivableToken", "MovePending"): self._move_pending,
            ("ReceivableToken", "MoveAccepted"): self._move_accepted,
            ("ReceivableToken", "MoveReturned"): self._move_returned,
            ("IssuanceDesk", "CurrencySet"): self._currency_set,
            ("IssuanceDesk", "ObligationProposed"): self._proposed,
            ("IssuanceDesk", "TermsJustified"): self._justified,
            ("TradeRegistry", "DocumentBackedMove"): self._document_backed_move,
            ("IssuanceDesk", "ObligationIssued"): self._issued,
            ("IssuanceDesk", "ProposalRejected"): self._rejected,
            ("IssuanceDesk", "ProposalCancelled"): self._cancelled,
            ("FinancingDesk", "OfferMade"): self._offer_made,
            ("FinancingDesk", "OfferCancelled"): self._offer_cancelled,
            ("FinancingDesk", "Financed"): self._financed,
            ("FinancingDesk", "RegistrationRecorded"): self._registration_recorded,
            ("FinancingDesk", "RecourseOpened"): self._recourse_opened,
            ("FinancingDesk", "RecourseSettled"): self._recourse_settled,
            ("FinancingDesk", "RecourseWaived"): self._recourse_waived,
            ("RepaymentDesk", "Deposited"): self._deposited,
            ("RepaymentDesk", "ObligationOverdue"): self._state(OVERDUE),
            ("RepaymentDesk", "ObligationRepaid"): self._state(REPAID),
            ("RepaymentDesk", "ObligationDefaulted"): self._state(DEFAULTED),
            ("RepaymentDesk", "Redeemed"): self._redeemed,
            ("RepaymentDesk", "DustSwept"): self._dust_swept,
            ("TierchainGovernor", "ProposalCreated"): self._governance_proposed,
            ("TierchainGovernor", "VoteCast"): self._governance_vote,
            ("TierchainGovernor", "ProposalQueued"): self._governance_queued,
            ("TierchainGovernor", "ProposalExecuted"): self._governance_executed,
            ("TierchainGovernor", "ProposalCanceled"): self._governance_cancelled,
            ("TierchainTimelock", "CallScheduled"): self._operation_scheduled,
            ("TierchainTimelock", "Cancelled"): self._operation_vetoed,
        }

    # ---------------------------------------------------------------- plumbing

    def apply(self, event: EventRecord) -> None:
        """Apply one stored event (it must have its id). Events without a projection only stay raw."""
        handler = self._handlers.get((event.contract, event.name))
        if handler is not None:
            handler(event)

    def flush(self) -> None:
        """Write pending rows and forget the cache (keeps memory flat while replaying long histories)."""
        self.session.flush()
        connection = self.session.connection()
        for model, rows in self._history_rows.items():
            if rows:
                # Core, not the ORM's bulk path, and every row with the same columns (a column a row
                # does not name gets its default): one multi-row INSERT per batch ("insertmanyvalues").
                # The ORM path grouped rows by the columns they name and, as a split's ownership and
                # value moves alternate, sent PostgreSQL a statement per row. Order is kept, so ids
                # still follow the chain's order.
                table = model.__table__  # type: ignore[attr-defined]
                connection.execute(insert(table), _same_columns(table, rows))
        self._history_rows.clear()
        self._cache.clear()

    def _get(self, model: type[M], key: Any) -> M | None:
        cached = self._cache.get((model, key))
        if cached is not None:
            return cached  # type: ignore[return-value]
        with self.session.no_autoflush:
            row = self.session.get(model, key)
        if row is not None:
            self._cache[(model, key)] = row
        return row

    def _add(self, row: M, key: Any) -> M:
        self.session.add(row)
        self._cache[(type(row), key)] = row
        return row

    def _history(self, model: type[SQLModel], event: EventRecord, **fields: Any) -> None:
        """Queue an append-only history row; written in bulk by `flush` (ORM objects cost ~10x more)."""
        fields.update(
            event_id=event.id,
            block_number=event.block_number,
            tx_hash=event.tx_hash,
            log_index=event.log_index,
        )
        self._history_rows.setdefault(model, []).append(fields)

    def _participant(self, address: str) -> Participant:
        row = self._get(Participant, address)
        return row if row is not None else self._add(Participant(address=address, roles=[]), address)

    def _token(self, token_id: int, event: EventRecord) -> Token | None:
        token = self._get(Token, token_id)
        if token is None:
            log.error(
                "event for unknown token token_id=%d event=%s tx=%s", token_id, event.name, event.tx_hash
            )
        return token

    def _obligation(self, slot: int) -> Obligation | None:
        return self._get(Obligation, slot)

    # ---------------------------------------------------------------- participants and documents

    def _participant_registered(self, e: EventRecord) -> None:
        p = self._participant(e.args["account"])
        p.legal_id_hash = e.args["legalIdHash"]
        p.registered_block = e.block_number

    def _participant_status(self, e: EventRecord) -> None:
        current = int(e.args["current"])
        status = PARTICIPANT_STATUS[current] if current < len(PARTICIPANT_STATUS) else str(current)
        self._participant(e.args["account"]).status = status

    def _role_granted(self, e: EventRecord) -> None:
        p = self._participant(e.args["account"])
        role = ROLE_NAMES.get(e.args["role"], e.args["role"])
        p.roles = sorted({*p.roles, role})

    def _role_revoked(self, e: EventRecord) -> None:
        p = self._participant(e.args["account"])
        role = ROLE_NAMES.get(e.args["role"], e.args["role"])
        p.roles = sorted(set(p.roles) - {role})

    def _document_attested(self, e: EventRecord) -> None:
        a = e.args
        kind = int(a["kind"])
        self._add(
            Document(
                fingerprint=a["fingerprint"],
                kind=DOCUMENT_KINDS[kind] if kind < len(DOCUMENT_KINDS) else str(kind),
                seller=a["seller"],
                buyer=a["buyer"],
                amount=a["amount"],
                currency=currency_code(a["currency"]),
                issue_date=a["issueDate"],
                due_date=a["dueDate"],
                nonce=a["nonce"],
                signers=list(a["signers"]),
                attested_block=e.block_number,
                attested_at=e.block_timestamp,
            ),
            a["fingerprint"],
        )

    def _document_used(self, e: EventRecord) -> None:
        fingerprint, slot = e.args["fingerprint"], int(e.args["slot"])
        doc = self._get(Document, fingerprint)
        if doc is not None:
            doc.used_by_slot = slot
        obligation = self._obligation(slot)
        if obligation is not None:
            obligation.documents = [*obligation.documents, fingerprint]

    def _document_backed_move(self, e: EventRecord) -> None:
        doc = self._get(Document, e.args["fingerprint"])
        if doc is not None:
            doc.moved_value = int(doc.moved_value) + int(e.args["value"])

    # ---------------------------------------------------------------- the token

    def _transfer(self, e: EventRecord) -> None:
        sender, receiver, token_id = e.args["_from"], e.args["_to"], int(e.args["_tokenId"])
        if sender == ZERO_ADDRESS:
            kind = "mint"
            self._add(
                Token(
                    token_id=token_id,
                    owner=receiver,
                    minted_block=e.block_number,
                    minted_tx=e.tx_hash,
                ),
                token_id,
            )
            self._awaiting_parent.add(token_id)
        elif receiver == ZERO_ADDRESS:
            # The burn itself is projected from `SlotChanged(id, slot, 0)`; this is its ownership record.
            kind = "burn"
        else:
            kind = "transfer"
            token = self._token(token_id, e)
            if token is not None:
                token.owner = receiver
        self._history(Transfer, e, kind=kind, token_id=token_id, from_address=sender, to_address=receiver)

    def _slot_changed(self, e: EventRecord) -> None:
        """Slot membership, as EIP-3525 announces it: `(id, 0, slot)` joins a slot at mint, `(id, slot, 0)`
        leaves it at burn. A burned piece keeps the slot it left, so its lineage stays per obligation."""
        token = self._token(int(e.args["_tokenId"]), e)
        if token is None:
            return
        new_slot = int(e.args["_newSlot"])
        if new_slot == 0:
            token.burned = True
            token.burned_block = e.block_number
        else:
            token.slot = new_slot

    def _transfer_value(self, e: EventRecord) -> None:
        source, target = int(e.args["_fromTokenId"]), int(e.args["_toTokenId"])
        value = int(e.args["_value"])
        if source != 0:
            src = self._token(source, e)
            if src is not None:
                src.value -= value
                if target == 0:  # redeem: value leaves the slot
                    obligation = self._obligation(src.slot)
                    if obligation is not None:
                        obligation.supply -= value
        if target != 0:
            dst = self._token(target, e)
            if dst is not None:
                dst.value += value
                if target in self._awaiting_parent:
                    self._awaiting_parent.discard(target)
                    parent = self._get(Token, source) if source != 0 else None
                    if parent is None:
                        dst.parent_id, dst.depth, dst.root_id = None, 0, target
                    else:
                        dst.parent_id, dst.depth, dst.root_id = source, parent.depth + 1, parent.root_id
        self._history(Transfer, e, kind="value", from_token_id=source, to_token_id=target, value=value)

    def _slot_created(self, e: EventRecord) -> None:
        a = e.args
        slot = int(a["slot"])
        currency = self._currency_by_address(a["currency"])
        self._add(
            Obligation(
                slot=slot,
                obligor=a["obligor"],
                currency=a["currency"],
                currency_code=currency,
                face=a["face"],
                maturity=a["maturity"],
                min_unit=a["minUnit"],
                root_token_id=a["rootTokenId"],
                supply=a["face"],
                documents=[],
                issued_block=e.block_number,
                issued_at=e.block_timestamp,
            ),
            slot,
        )

    # ---------------------------------------------------------------- bill mode (签收)

    def _slot_bill_mode(self, e: EventRecord) -> None:
        obligation = self._obligation(int(e.args["slot"]))
        if obligation is not None:
            obligation.bill_window = int(e.args["acceptanceWindow"])

    def _move_pending(self, e: EventRecord) -> None:
        a = e.args
        token_id = int(a["tokenId"])
        token = self._get(Token, token_id)
        existing = self._get(PendingMove, token_id)
        fields: dict[str, Any] = {
            "source_token_id": int(a["sourceTokenId"]),
            "slot": token.slot if token is not None else 0,
            "sender": a["from"],
            "receiver": a["to"],
            "value": int(a["value"]),
            "expiry": int(a["expiry"]),
            "status": PENDING,
            "merged_into": None,
            "created_block": e.block_number,
            "created_tx": e.tx_hash,
            "closed_block": None,
            "closed_tx": None,
        }
        if existing is None:
            self._add(PendingMove(token_id=token_id, **fields), token_id)
        else:  # a whole token or a returned piece may pend again: the row keeps the latest move
            for name, value in fields.items():
                setattr(existing, name, value)

    def _close_move(self, e: EventRecord, status: str, merged_into: int | None = None) -> None:
        move = self._get(PendingMove, int(e.args["tokenId"]))
        if move is None:
            log.error("close of unknown pending move token_id=%s tx=%s", e.args["tokenId"], e.tx_hash)
            return
        move.status = status
        move.merged_into = merged_into
        move.closed_block = e.block_number
        move.closed_tx = e.tx_hash

    def _move_accepted(self, e: EventRecord) -> None:
        self._close_move(e, ACCEPTED)

    def _move_returned(self, e: EventRecord) -> None:
        reason = int(e.args["reason"])
        merged = int(e.args["mergedInto"])
        status = RETURN_REASONS[reason] if reason < len(RETURN_REASONS) else str(reason)
        self._close_move(e, status, merged or None)

    def _currency_by_address(self, address: str) -> str | None:
        if self._codes is None:
            with self.session.no_autoflush:
                rows = self.session.exec(select(Currency)).all()
            self._codes = {r.token_address: r.code for r in rows if r.token_address is not None}
        return self._codes.get(address)

    def _frozen(self, e: EventRecord) -> None:
        self._freeze_changed(e, frozen=True)

    def _unfrozen(self, e: EventRecord) -> None:
        self._freeze_changed(e, frozen=False)

    def _freeze_changed(self, e: EventRecord, *, frozen: bool) -> None:
        token_id = int(e.args["tokenId"])
        token = self._token(token_id, e)
        if token is not None:
            token.frozen = frozen
        self._history(
            Freeze,
            e,
            token_id=token_id,
            action="freeze" if frozen else "unfreeze",
            regulator=e.args["regulator"],
            reason_code=e.args["reasonCode"],
        )

    def _forced_transfer(self, e: EventRecord) -> None:
        a = e.args
        self._history(
            ForcedTransfer,
            e,
            from_token_id=a["fromTokenId"],
            to_token_id=a["toTokenId"],
            to_address=a["to"],
            value=a["value"],
            order_ref=a["orderRef"],
            enforcer=a["enforcer"],
        )

    # ---------------------------------------------------------------- issuance

    def _currency_set(self, e: EventRecord) -> None:
        code = currency_code(e.args["currency"])
        address = e.args["settlementToken"]
        row = self._get(Currency, code)
        if row is None:
            row = self._add(Currency(code=code), code)
        row.token_address = None if address == ZERO_ADDRESS else address
        self._codes = None

    def _proposed(self, e: EventRecord) -> None:
        a = e.args
        proposal_id = int(a["proposalId"])
        self._add(
            Proposal(
                proposal_id=proposal_id,
                supplier=a["supplier"],
                obligor=a["obligor"],
                currency=currency_code(a["currency"]),
                face=a["face"],
                maturity=a["maturity"],
                min_unit=a["minUnit"],
                documents=list(a["documents"]),
                proposed_block=e.block_number,
            ),
            proposal_id,
        )

    def _justified(self, e: EventRecord) -> None:
        """The codes a proposal's terms carry (slot 0), then the obligation it became."""
        code, ref = int(e.args["tenorJustification"]), e.args["agreedTermRef"]
        agreed = None if int(ref, 16) == 0 else ref
        slot = int(e.args["slot"])
        target = self._obligation(slot) if slot else self._get(Proposal, int(e.args["proposalId"]))
        if target is not None:
            target.tenor_justification = code
            target.agreed_term_ref = agreed

    def _close_proposal(self, proposal_id: int, status: str, e: EventRecord) -> Proposal | None:
        proposal = self._get(Proposal, proposal_id) if proposal_id != 0 else None
        if proposal is not None:
            proposal.status = status
            proposal.closed_block = e.block_number
        return proposal

    def _issued(self, e: EventRecord) -> None:
        proposal_id, slot = int(e.args["proposalId"]), int(e.args["slot"])
        proposal = self._close_proposal(proposal_id, "issued", e)
        if proposal is not None:
            proposal.slot = slot
        obligation = self._obligation(slot)
        if obligation is not None:
            obligation.proposal_id = proposal_id or None
            obligation.confirmed_by = e.args["confirmedBy"]
            if proposal is not None:
                obligation.currency_code = proposal.currency

    def _rejected(self, e: EventRecord) -> None:
        proposal = self._close_proposal(int(e.args["proposalId"]), "rejected", e)
        if proposal is not None:
            proposal.reason_code = int(e.args["reasonCode"])

    def _cancelled(self, e: EventRecord) -> None:
        self._close_proposal(int(e.args["proposalId"]), "cancelled", e)

    # ---------------------------------------------------------------- financing

    def _offer_made(self, e: EventRecord) -> None:
        a = e.args
        offer_id = int(a["offerId"])
        day_count = int(a["dayCount"])
        self._add(
            Financing(
                offer_id=offer_id,
                bank=a["bank"],
                token_id=a["tokenId"],
                value=a["value"],
                rate_bps=a["rateBps"],
                day_count=DAY_COUNTS[day_count] if day_count < len(DAY_COUNTS) else str(day_count),
                recourse=bool(a["recourse"]),
                expiry=a["expiry"],
                offered_block=e.block_number,
            ),
            offer_id,
        )

    def _offer_cancelled(self, e: EventRecord) -> None:
        offer = self._get(Financing, int(e.args["offerId"]))
        if offer is not None:
            offer.status = "cancelled"
            offer.closed_block = e.block_number

    def _registration_recorded(self, e: EventRecord) -> None:
        financing = self._get(Financing, int(e.args["offerId"]))
        if financing is not None:
            financing.registration_number = e.args["number"]

    def _financed(self, e: EventRecord) -> None:
        a = e.args
        offer = self._get(Financing, int(a["offerId"]))
        if offer is None:
            log.error("Financed for unknown offer offer_id=%s tx=%s", a["offerId"], e.tx_hash)
            return
        offer.status = "financed"
        offer.holder = a["holder"]
        offer.financed_token_id = int(a["financedTokenId"])
        offer.price = int(a["price"])
        offer.discount = int(a["discount"])
        offer.days = int(a["daysToMaturity"])
        offer.closed_block = e.block_number
        offer.financed_at = e.block_timestamp

    # ---------------------------------------------------------------- recourse (追索)

    def _recourse_opened(self, e: EventRecord) -> None:
        a = e.args
        offer_id = int(a["offerId"])
        self._add(
            RecourseClaim(
                offer_id=offer_id,
                bank=a["bank"],
                seller=a["seller"],
                slot=int(a["slot"]),
                shortfall=int(a["shortfall"]),
                opened_block=e.block_number,
                opened_at=e.block_timestamp,
            ),
            offer_id,
        )

    def _recourse_claim(self, e: EventRecord) -> RecourseClaim | None:
        claim = self._get(RecourseClaim, int(e.args["offerId"]))
        if claim is None:
            log.error("%s for unknown recourse claim offer_id=%s tx=%s", e.name, e.args["offerId"], e.tx_hash)
        return claim

    def _recourse_settled(self, e: EventRecord) -> None:
        claim = self._recourse_claim(e)
        if claim is None:
            return
        claim.settled = int(claim.settled) + int(e.args["amount"])
        if int(e.args["remaining"]) == 0:
            claim.state = "settled"
            claim.closed_block = e.block_number
        else:
            claim.state = "partly_settled"

    def _recourse_waived(self, e: EventRecord) -> None:
        claim = self._recourse_claim(e)
        if claim is not None:
            claim.state = "waived"
            claim.waived = int(e.args["remaining"])
            claim.closed_block = e.block_number

    # ---------------------------------------------------------------- lost-key recovery (密钥遗失恢复)

    def _recovery_requested(self, e: EventRecord) -> None:
        a = e.args
        row = Recovery(
            id=e.id,
            lost=a["lost"],
            replacement=a["replacement"],
            case_ref=a["caseRef"],
            requested_by=a["requestedBy"],
            requested_block=e.block_number,
            requested_at=e.block_timestamp,
            requested_tx=e.tx_hash,
        )
        self._recoveries[row.lost] = self._add(row, e.id)

    def _recovery(self, e: EventRecord, lost: str, state: str) -> Recovery | None:
        """The latest recovery of `lost` if it is in `state`."""
        row = self._recoveries.get(lost)
        if row is None:
            with self.session.no_autoflush:
                row = self.session.exec(
                    select(Recovery)
                    .where(col(Recovery.lost) == lost)
                    .order_by(col(Recovery.id).desc())
                    .limit(1)
                ).first()
            if row is not None:
                self._recoveries[lost] = row
        if row is None or row.state != state:
            log.error("%s without a %s recovery lost=%s tx=%s", e.name, state, lost, e.tx_hash)
            return None
        return row

    def _close_recovery(self, row: Recovery, e: EventRecord, state: str) -> None:
        row.state = state
        row.closed_block = e.block_number
        row.closed_at = e.block_timestamp
        row.closed_tx = e.tx_hash

    def _participant_recovered(self, e: EventRecord) -> None:
        row = self._recovery(e, e.args["lost"], "requested")
        if row is not None:
            row.approved_by = e.args["approvedBy"]
            self._close_recovery(row, e, "approved")

    def _recovery_cancelled(self, e: EventRecord) -> None:
        row = self._recovery(e, e.args["lost"], "requested")
        if row is not None:
            row.cancelled_by = e.args["by"]
            self._close_recovery(row, e, "cancelled")

    def _token_recovered(self, e: EventRecord) -> None:
        """Counts the token on its recovery; a move pending to the lost address now waits for the
        replacement (an owned token's new owner comes from its `Transfer`)."""
        a = e.args
        row = self._recovery(e, a["lost"], "approved")
        if row is not None:
            row.tokens_moved = int(row.tokens_moved) + 1
            row.last_tokens_block = e.block_number
        move = self._get(PendingMove, int(a["tokenId"]))
        if move is not None and move.status == PENDING and move.receiver == a["lost"]:
            move.receiver = a["replacement"]

    # ---------------------------------------------------------------- repayment

    def _deposited(self, e: EventRecord) -> None:
        a = e.args
        slot = int(a["slot"])
        obligation = self._obligation(slot)
        if obligation is not None:
            obligation.paid = int(a["paidTotal"])
        self._history(
            Repayment, e, slot=slot, obligor=a["obligor"], amount=a["amount"], paid_total=a["paidTotal"]
        )

    def _state(self, state: str) -> Callable[[EventRecord], None]:
        def apply(e: EventRecord) -> None:
            obligation = self._obligation(int(e.args["slot"]))
            if obligation is not None:
                obligation.state = state

        return apply

    def _redeemed(self, e: EventRecord) -> None:
        a = e.args
        slot = int(a["slot"])
        obligation = self._obligation(slot)
        if obligation is not None:
            obligation.paid_out += int(a["payout"])
            obligation.redeemed_value += int(a["value"])
        self._history(
            Redemption,
            e,
            token_id=a["tokenId"],
            slot=slot,
            holder=a["holder"],
            value=a["value"],
            payout=a["payout"],
        )

    def _dust_swept(self, e: EventRecord) -> None:
        obligation = self._obligation(int(e.args["slot"]))
        if obligation is not None:
            obligation.paid_out += int(e.args["amount"])
            obligation.dust_swept += int(e.args["amount"])

    # ---------------------------------------------------------------- governance

    def _governance_proposed(self, e: EventRecord) -> None:
        a = e.args
        proposal_id = int(a["proposalId"])
        self._add(
            GovernanceProposal(
                proposal_id=proposal_id,
                proposer=a["proposer"],
                description=a["description"],
                targets=list(a["targets"]),
                calldatas=list(a["calldatas"]),
                vote_start=int(a["voteStart"]),
                vote_end=int(a["voteEnd"]),
                created_block=e.block_number,
                created_tx=e.tx_hash,
            ),
            proposal_id,
        )

    def _governance_proposal(self, e: EventRecord) -> GovernanceProposal | None:
        proposal = self._get(GovernanceProposal, int(e.args["proposalId"]))
        if proposal is None:
            log.error("%s for unknown governance proposal tx=%s", e.name, e.tx_hash)
        return proposal

    def _governance_vote(self, e: EventRecord) -> None:
        proposal = self._governance_proposal(e)
        if proposal is None:
            return
        support, weight = int(e.args["support"]), int(e.args["weight"])
        if support == 1:
            proposal.approvals += weight
        elif support == 0:
            proposal.against += weight

    def _operation_scheduled(self, e: EventRecord) -> None:
        self._scheduled[e.tx_hash] = e.args["id"]

    def _governance_queued(self, e: EventRecord) -> None:
        proposal = self._governance_proposal(e)
        if proposal is None:
            return
        proposal.state = "queued"
        proposal.eta = int(e.args["etaSeconds"])
        proposal.queued_block = e.block_number
        proposal.operation_id = self._scheduled.pop(e.tx_hash, None)

    def _governance_executed(self, e: EventRecord) -> None:
        proposal = self._governance_proposal(e)
        if proposal is not None:
            proposal.state = "executed"
            proposal.executed_block = e.block_number

    def _governance_cancelled(self, e: EventRecord) -> None:
        proposal = self._governance_proposal(e)
        if proposal is not None:
            proposal.state = "cancelled"
            proposal.cancelled_block = e.block_number

    def _operation_vetoed(self, e: EventRecord) -> None:
        """The guardian cancelled a queued operation on the timelock: its proposal is cancelled too."""
        with self.session.no_autoflush:
            self.session.flush()
            proposal = self.session.exec(
                select(GovernanceProposal).where(GovernanceProposal.operation_id == e.args["id"])
            ).first()
        if proposal is not None:
            self._cache[(GovernanceProposal, proposal.proposal_id)] = proposal
            proposal.state = "cancelled"
            proposal.cancelled_block = e.block_number


__all__ = ["OUTSTANDING", "ROLE_NAMES", "Projector", "currency_code"]
