"""Tierchain's exception hierarchy and the decoder that turns revert data into typed exceptions.

Callers catch `TierchainError` (or one of its meaningful subclasses) and never web3 or eth_abi
exceptions: a contract's custom error becomes a `ContractRevert` whose class, name and arguments say
what the contract refused and why, so the API can map it to a problem+json answer in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ledger.roles import role_name


class TierchainError(Exception):
    """Base of every error Tierchain raises on purpose."""


class ConfigError(TierchainError):
    """A configuration file or setting is missing or invalid; the message names file and field."""


class CompilationError(TierchainError):
    """The Solidity compiler reported errors; `messages` holds each formatted compiler message."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("compilation failed:\n" + "\n".join(self.messages))


class ChainUnavailable(TierchainError):
    """The JSON-RPC endpoint did not answer after all retries."""


class NotPersisted(TierchainError):
    """A store could not write what it must record (a full disk, a read-only data dir). Stores write
    before acting, so what failed to be recorded was not acted on: a transaction the journal could not
    record is not broadcast, an answer a node could not store is not given. `full` when the cause is
    lack of space; `path` names the file."""

    def __init__(self, what: str, path: str, cause: BaseException | str) -> None:
        reason = str(cause) or type(cause).__name__
        self.path, self.reason = path, reason
        self.full = is_disk_full(reason)
        super().__init__(f"{what} could not be written to {path}: {reason}")


def is_disk_full(message: str) -> bool:
    """Whether a storage error message says the disk (or the database's size limit) is full."""
    text = message.lower()
    return any(s in text for s in ("disk is full", "no space left", "disk full", "could not extend file"))


class LocalOnly(TierchainError):
    """An operation that exists only on the local development chain (anvil), e.g. moving its clock."""


class SignerError(TierchainError):
    """A signing key could not be loaded, or its source is not allowed on this network."""


class TransactionFailed(TierchainError):
    """A transaction was mined but failed, or never got a receipt in time."""

    def __init__(self, message: str, tx_hash: str | None = None, receipt: Mapping[str, Any] | None = None):
        self.tx_hash = tx_hash
        self.receipt = receipt
        super().__init__(message)


class ReceiptTimeout(TransactionFailed):
    """No receipt arrived before the deadline; the transaction may still be mined later."""


class InsufficientFunds(TransactionFailed):
    """The sender cannot pay for the transaction's gas (and value) in the chain's gas token.

    Nothing was broadcast. `balance_wei` is what `address` holds, `needed_wei` what this transaction
    may cost at most (gas limit x fee cap, plus value): sending it the difference lets it through."""

    def __init__(self, address: str, balance_wei: int, needed_wei: int, network: str) -> None:
        self.address = address
        self.balance_wei = balance_wei
        self.needed_wei = needed_wei
        self.network = network
        super().__init__(
            f"{address} has {balance_wei} wei of network {network!r}'s gas token and this transaction "
            f"may cost up to {needed_wei} wei: send it the chain's gas token"
        )


PANIC_CODES: dict[int, str] = {
    0x00: "generic compiler panic",
    0x01: "assert failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum conversion",
    0x22: "incorrectly encoded storage byte array",
    0x31: "pop on empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to zero-initialized function pointer",
}


def _format_value(value: Any) -> str:
    if isinstance(value, bytes):
        named = role_name(value) if len(value) == 32 else None  # roles by name, never as keccak ids
        return named or "0x" + value.hex()
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_format_value(v) for v in value) + "]"
    return str(value)


class ContractRevert(TierchainError):
    """A contract call reverted; subclasses declare `error_name` to stand for one custom error.

    Declaring `class TokenFrozen(ContractRevert): error_name = "TokenFrozen"` registers the class,
    and the decoder then raises it instead of the generic class, so callers can `except TokenFrozen`.
    """

    error_name: str = ""
    tx_hash: str | None = None  # set when the revert was found in a mined, failed transaction
    receipt: dict[str, Any] | None = None
    _registry: ClassVar[dict[str, type[ContractRevert]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("error_name")
        if name:
            ContractRevert._registry[name] = cls

    def __init__(
        self,
        error_name: str | None = None,
        args_by_name: Mapping[str, Any] | None = None,
        *,
        contract: str | None = None,
        data: bytes = b"",
        detail: str | None = None,
    ) -> None:
        if error_name is not None:
            self.error_name = error_name
        self.args_by_name: dict[str, Any] = dict(args_by_name or {})
        self.contract = contract
        self.data = data
        if self.error_name == "UnknownError":
            text = f"UnknownError(data=0x{data.hex()})"
        else:
            inner = ", ".join(f"{k}={_format_value(v)}" for k, v in self.args_by_name.items())
            text = f"{self.error_name}({inner})"
        if detail:
            text = f"{text}: {detail}"
        super().__init__(text)

    @classmethod
    def for_name(cls, error_name: str) -> type[ContractRevert]:
        """The registered subclass for `error_name`, or the generic class."""
        return cls._registry.get(error_name, ContractRevert)


class TokenFrozen(ContractRevert):
    error_name = "TokenFrozen"


class DocumentAlreadyUsed(ContractRevert):
    error_name = "DocumentAlreadyUsed"


class DocumentAlreadyAttested(ContractRevert):
    error_name = "DocumentAlreadyAttested"


class ParticipantNotActive(ContractRevert):
    error_name = "ParticipantNotActive"


class InsufficientBalance(ContractRevert):
    error_name = "InsufficientBalance"


class ObligationMatured(ContractRevert):
    error_name = "ObligationMatured"


class InsufficientSignatures(ContractRevert):
    error_name = "InsufficientSignatures"


class NotMultipleOfMinUnit(ContractRevert):
    """A value is zero or not a multiple of the slot's minimum unit."""

    error_name = "NotMultipleOfMinUnit"


class IncorrectOwner(ContractRevert):
    """The claimed holder does not own the token."""

    error_name = "IncorrectOwner"


class OfferExpired(ContractRevert):
    """The financing offer's expiry has passed."""

    error_name = "OfferExpired"


class OfferNotOpen(ContractRevert):
    """The offer was already accepted or cancelled."""

    error_name = "OfferNotOpen"


class UnknownOffer(ContractRevert):
    error_name = "UnknownOffer"


class NotSettled(ContractRevert):
    """The obligation is neither repaid nor in default, so nothing can be redeemed yet."""

    error_name = "NotSettled"


class ObligationNotMatured(ContractRevert):
    """Redemption before maturity."""

    error_name = "ObligationNotMatured"


class InsufficientDocumentCover(ContractRevert):
    """The attested invoices total less than the face."""

    error_name = "InsufficientDocumentCover"


class MissingRole(ContractRevert):
    """The account lacks the participant role the operation needs."""

    error_name = "MissingRole"


class NonexistentToken(ContractRevert):
    error_name = "NonexistentToken"


class NonexistentSlot(ContractRevert):
    error_name = "NonexistentSlot"


class InsufficientAllowance(ContractRevert):
    error_name = "InsufficientAllowance"


class InsufficientApproval(ContractRevert):
    error_name = "InsufficientApproval"


class TokenNotFrozen(ContractRevert):
    error_name = "TokenNotFrozen"


class SlotMismatch(ContractRevert):
    """A merge between tokens of different obligations."""

    error_name = "SlotMismatch"


class NotAHolder(ContractRevert):
    """The account may not hold receivables (no core enterprise, supplier or bank role)."""

    error_name = "NotAHolder"


class NotAuthorized(ContractRevert):
    error_name = "NotAuthorized"


class AlreadyRegistered(ContractRevert):
    error_name = "AlreadyRegistered"


class LegalIdAlreadyRegistered(ContractRevert):
    error_name = "LegalIdAlreadyRegistered"


class NotRegistered(ContractRevert):
    error_name = "NotRegistered"


class DocumentNotAttested(ContractRevert):
    error_name = "DocumentNotAttested"


class DocumentPartyMismatch(ContractRevert):
    error_name = "DocumentPartyMismatch"


class DocumentCurrencyMismatch(ContractRevert):
    error_name = "DocumentCurrencyMismatch"


class NonceAlreadyUsed(ContractRevert):
    error_name = "NonceAlreadyUsed"


class SignersNotAscending(ContractRevert):
    error_name = "SignersNotAscending"


class AttestationExpired(ContractRevert):
    error_name = "AttestationExpired"


class UnknownProposal(ContractRevert):
    error_name = "UnknownProposal"


class TermsMismatch(ContractRevert):
    """The terms sent do not hash to the proposal's stored terms."""

    error_name = "TermsMismatch"


class NotSupplier(ContractRevert):
    error_name = "NotSupplier"


class NotObligor(ContractRevert):
    error_name = "NotObligor"


class UnknownCurrency(ContractRevert):
    error_name = "UnknownCurrency"


class RefusedValue(ContractRevert):
    """A contract refused one value of the call; `field` names it as `ledger.client.Terms` or the
    client method's argument spells it (`maturity`, `min_unit`, `expiry`, ...)."""

    refused_field: ClassVar[str | None] = None

    @property
    def field(self) -> str | None:
        return self.refused_field


class InvalidTerms(RefusedValue):
    """The terms of an obligation break one rule; the subclass names which."""


class ZeroAddress(InvalidTerms):
    """A required address is zero; the contract names the field (`obligor`, `settlementToken`, ...)."""

    error_name = "ZeroAddress"

    @property
    def field(self) -> str | None:
        named = self.args_by_name.get("field")
        return _snake(named) if isinstance(named, str) and named else None


class ZeroFace(InvalidTerms):
    error_name, refused_field = "ZeroFace", "face"


class ZeroMinUnit(InvalidTerms):
    error_name, refused_field = "ZeroMinUnit", "min_unit"


class MinUnitTooLarge(InvalidTerms):
    error_name, refused_field = "MinUnitTooLarge", "min_unit"


class FaceNotMultipleOfMinUnit(InvalidTerms):
    error_name, refused_field = "FaceNotMultipleOfMinUnit", "face"


class MaturityNotInFuture(InvalidTerms):
    """The maturity is not after the latest block's time (`currentTime`)."""

    error_name, refused_field = "MaturityNotInFuture", "maturity"


class NoDocuments(InvalidTerms):
    error_name, refused_field = "NoDocuments", "documents"


class SupplierIsObligor(InvalidTerms):
    """A participant may not owe itself."""

    error_name, refused_field = "SupplierIsObligor", "obligor"


class EmptyCurrencyCode(InvalidTerms):
    error_name, refused_field = "EmptyCurrencyCode", "currency"


class InvalidOffer(RefusedValue):
    """A financing offer breaks one rule; the subclass names which."""


class ZeroOfferValue(InvalidOffer):
    error_name, refused_field = "ZeroOfferValue", "value"


class RateOutOfRange(InvalidOffer):
    error_name, refused_field = "RateOutOfRange", "rate_bps"


class OfferExpiryPast(InvalidOffer):
    """The expiry is not after the latest block's time (`currentTime`)."""

    error_name, refused_field = "OfferExpiryPast", "expiry"


class OfferValueExceedsToken(InvalidOffer):
    """The offer asks for more than the token holds now (`tokenValue`)."""

    error_name, refused_field = "OfferValueExceedsToken", "value"


def _snake(name: str) -> str:
    """`settlementToken` → `settlement_token`."""
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in name).lstrip("_")


class SignatureExpired(ContractRevert):
    error_name = "SignatureExpired"


class InvalidConfirmationSignature(ContractRevert):
    error_name = "InvalidConfirmationSignature"


class InvalidSupplierSignature(ContractRevert):
    """A direct issue without the supplier's signature over exactly these terms."""

    error_name = "InvalidSupplierSignature"


class MaturityTooLate(ContractRevert):
    """The maturity defers the earliest cited invoice's due day by more than the desk allows."""

    error_name = "MaturityTooLate"


class TransferShortfall(ContractRevert):
    """The settlement currency delivered less than the amount (a fee-on-transfer token, for one)."""

    error_name = "TransferShortfall"


class SelfFinancing(ContractRevert):
    error_name = "SelfFinancing"


class Overpayment(ContractRevert):
    error_name = "Overpayment"


class SlotClosed(ContractRevert):
    error_name = "SlotClosed"


class GracePeriodRunning(ContractRevert):
    error_name = "GracePeriodRunning"


class NoDust(ContractRevert):
    error_name = "NoDust"


class RedemptionsOutstanding(ContractRevert):
    error_name = "RedemptionsOutstanding"


class DiscountExceedsValue(ContractRevert):
    error_name = "DiscountExceedsValue"


# ------------------------------------------------------------------ compliance rules (docs/compliance.md)


class TenorTooLong(InvalidTerms):
    """The term from now to maturity (`tenor`, seconds) exceeds the policy's `maxTenor` (one year under
    PBoC notice Yinfa [2025] No. 77)."""

    error_name, refused_field = "TenorTooLong", "maturity"


class LongTenorNeedsJustification(InvalidTerms):
    """The term exceeds the policy's `longTenor` (six months) and no justification code was given."""

    error_name, refused_field = "LongTenorNeedsJustification", "tenor_justification"


class SmePaymentTermExceeded(InvalidTerms):
    """A large obligor pays a medium, small or micro supplier later than `smePaymentTerm` (60 days)
    after delivery, without an agreed contract term (State Council Decree No. 802)."""

    error_name, refused_field = "SmePaymentTermExceeded", "maturity"


class MinUnitBelowPolicy(InvalidTerms):
    """The obligation's minimum unit is below the policy's."""

    error_name, refused_field = "MinUnitBelowPolicy", "min_unit"


class ObligorSuspended(ContractRevert):
    """The obligor's issuance is suspended until `until` for persistent overdue (three overdue
    obligations within 182 days)."""

    error_name = "ObligorSuspended"


class TradeBackgroundRequired(ContractRevert):
    """A move to a non-bank must cite trade documents under the policy (`moveWithTrade`)."""

    error_name = "TradeBackgroundRequired"


class AwaitingAcceptance(ContractRevert):
    """The piece is pending (待签收) in bill mode: it cannot move, merge or be financed until the receiver
    accepts, refuses, the sender withdraws, or it expires."""

    error_name = "AwaitingAcceptance"


class NoPendingMove(ContractRevert):
    """The token has no pending move to accept, refuse, withdraw or expire."""

    error_name = "NoPendingMove"


class NotMoveParty(ContractRevert):
    """Only the receiver accepts (签收) or refuses (拒收) a pending move; only its sender withdraws (撤回)."""

    error_name = "NotMoveParty"


class MoveExpired(ContractRevert):
    """The pending move's acceptance window (or the obligation) ran out: it can only return to the sender."""

    error_name = "MoveExpired"


class MoveNotExpired(ContractRevert):
    """The pending move is still open until its expiry: it cannot be expired yet."""

    error_name = "MoveNotExpired"


class InvalidAcceptanceWindow(ContractRevert):
    """A bill-mode acceptance window of zero or longer than a year."""

    error_name = "InvalidAcceptanceWindow"


class SplitTooDeep(ContractRevert):
    """The new piece would sit deeper below its root than the policy's `maxDepth`."""

    error_name = "SplitTooDeep"


class InsufficientTradeCover(ContractRevert):
    """The trade documents cited for a payment cover less than its value."""

    error_name = "InsufficientTradeCover"


class DocumentBacksMoves(ContractRevert):
    """A document that backed payments between holders cannot back a new obligation."""

    error_name = "DocumentBacksMoves"


class NotHolder(ContractRevert):
    """Only the token's holder pays with it (`moveWithTrade`)."""

    error_name = "NotHolder"


class MoveBatchMismatch(ContractRevert):
    """Receivers, values and document lists of a payment differ in number (or are empty)."""

    error_name = "MoveBatchMismatch"


class InvalidPolicy(ContractRevert):
    """A policy breaks one of its own bounds; `field` names which."""

    error_name = "InvalidPolicy"


class PolicyReasonRequired(ContractRevert):
    error_name = "PolicyReasonRequired"


class NoObligorPolicy(ContractRevert):
    """There is no policy of the obligor's own to clear."""

    error_name = "NoObligorPolicy"


class ObligorNotSuspended(ContractRevert):
    error_name = "ObligorNotSuspended"


class InvalidSizeClass(ContractRevert):
    error_name = "InvalidSizeClass"


class CreditLimitExceeded(ContractRevert):
    error_name = "CreditLimitExceeded"


class LimitBelowUse(ContractRevert):
    error_name = "LimitBelowUse"


class ExposureNotReleasable(ContractRevert):
    error_name = "ExposureNotReleasable"


# ---- recourse (追索): a with-recourse financing's claim on its seller after default


class NoRecourse(ContractRevert):
    """The financing was made without recourse (or accepted before sellers were recorded)."""

    error_name = "NoRecourse"


class NotDefaulted(ContractRevert):
    """A recourse claim is opened only once the obligation is Defaulted; `state` is its repayment state."""

    error_name = "NotDefaulted"


class RecourseAlreadyOpen(ContractRevert):
    error_name = "RecourseAlreadyOpen"


class RecoursePieceNotHeld(ContractRevert):
    """The bank no longer holds the financed piece whole: open the claim before redeeming or selling it."""

    error_name = "RecoursePieceNotHeld"


class NoShortfall(ContractRevert):
    error_name = "NoShortfall"


class RecourseNotOpen(ContractRevert):
    """No recourse claim that is open or partly settled."""

    error_name = "RecourseNotOpen"


class NotRecourseSeller(ContractRevert):
    error_name = "NotRecourseSeller"


class ZeroRecourseAmount(ContractRevert):
    error_name = "ZeroRecourseAmount"


class RecourseOverpayment(ContractRevert):
    """A settlement above what remains of the claim."""

    error_name = "RecourseOverpayment"


# ---- lost-key recovery (密钥遗失恢复): a participant's record and tokens moved to a new address


class AccountRecovered(ContractRevert):
    """`account` lost its key and was recovered to `replacement`: it never acts or changes again."""

    error_name = "AccountRecovered"


class InvalidCaseRef(ContractRevert):
    """A recovery needs a case reference (not zero)."""

    error_name = "InvalidCaseRef"


class RecoveryAlreadyRequested(ContractRevert):
    """`lost` has an open recovery request already (of case `caseRef`): approve or cancel it first."""

    error_name = "RecoveryAlreadyRequested"


class NoRecoveryRequest(ContractRevert):
    error_name = "NoRecoveryRequest"


class RecoveryCaseMismatch(ContractRevert):
    """The case reference given is not the open request's (`expected`)."""

    error_name = "RecoveryCaseMismatch"


class RecoveryNeedsSecondParty(ContractRevert):
    """The key that requested a recovery cannot approve it: a second key (ENFORCEMENT) must."""

    error_name = "RecoveryNeedsSecondParty"


class NotRecovered(ContractRevert):
    """Tokens move only after the registry recorded the recovery of `lost` (`approveRecovery`)."""

    error_name = "NotRecovered"


class NotRecoverable(ContractRevert):
    """The token is neither owned by the lost address nor pending to it."""

    error_name = "NotRecoverable"


class RecoveryBatchTooLarge(ContractRevert):
    error_name = "RecoveryBatchTooLarge"


class EmptyBatch(ContractRevert):
    error_name = "EmptyBatch"


# ---- ERC-7943 (uRWA): the token's account, transfer and value-freeze checks


class ERC7943CannotSend(ContractRevert):
    """`account` may not send (not an active holder, or recovered)."""

    error_name = "ERC7943CannotSend"


class ERC7943CannotReceive(ContractRevert):
    """`account` may not receive (not an active holder, or recovered)."""

    error_name = "ERC7943CannotReceive"


class ERC7943CannotTransfer(ContractRevert):
    error_name = "ERC7943CannotTransfer"


class ERC7943InsufficientUnfrozenBalance(ContractRevert):
    """A move of `amount` out of the piece would leave less than its frozen value (`unfrozen` is free)."""

    error_name = "ERC7943InsufficientUnfrozenBalance"


def abi_type(param: Mapping[str, Any]) -> str:
    """Canonical ABI type of one parameter, expanding tuples so selectors match solc's."""
    typ = str(param["type"])
    if typ.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param.get("components", []))
        return f"({inner}){typ[len('tuple') :]}"
    return typ


class _ErrorSpec:
    __slots__ = ("contract", "names", "signature", "types")

    def __init__(self, name: str, inputs: Sequence[Mapping[str, Any]], contract: str | None) -> None:
        self.types = [abi_type(p) for p in inputs]
        self.names = [str(p.get("name") or f"arg{i}") for i, p in enumerate(inputs)]
        self.signature = f"{name}({','.join(self.types)})"
        self.contract = contract


_ERROR_STRING = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")


class ErrorDecoder:
    """Maps 4-byte error selectors from every known ABI to names and decodes their arguments.

    Built from all artifacts (interfaces included) so an error raised deep in a library or a
    called contract still decodes even when the called contract's own ABI does not list it.
    """

    def __init__(self, abis: Iterable[Sequence[Mapping[str, Any]]] = (), contracts: Iterable[str] = ()):
        self._specs: dict[bytes, tuple[str, _ErrorSpec]] = {}
        names = list(contracts)
        for i, abi in enumerate(abis):
            self.add_abi(abi, names[i] if i < len(names) else None)

    @classmethod
    def from_artifacts(cls, abis_by_contract: Mapping[str, Sequence[Mapping[str, Any]]]) -> ErrorDecoder:
        return cls(abis_by_contract.values(), abis_by_contract.keys())

    def add_abi(self, abi: Sequence[Mapping[str, Any]], contract: str | None = None) -> None:
        for entry in abi:
            if entry.get("type") != "error":
                continue
            spec = _ErrorSpec(str(entry["name"]), entry.get("inputs", []), contract)
            selector = keccak(text=spec.signature)[:4]
            self._specs.setdefault(selector, (str(entry["name"]), spec))

    def known_errors(self) -> list[str]:
        return sorted(spec.signature for _, spec in self._specs.values())

    def decode(self, data: bytes | str | None) -> ContractRevert:
        """Decode revert data into the most specific `ContractRevert` available."""
        raw = _to_bytes(data)
        selector, body = raw[:4], raw[4:]
        try:
            if selector == _ERROR_STRING:
                (reason,) = abi_decode(["string"], body)
                return ContractRevert("Error", {"reason": reason}, data=raw)
            if selector == _PANIC:
                (code,) = abi_decode(["uint256"], body)
                explained = PANIC_CODES.get(code, "unknown panic code")
                return ContractRevert("Panic", {"code": code}, data=raw, detail=explained)
            found = self._specs.get(selector)
            if found is None:
                return ContractRevert("UnknownError", data=raw)
            name, spec = found
            values = abi_decode(spec.types, body)
        except (DecodingError, ValueError, OverflowError):
            return ContractRevert("UnknownError", data=raw)
        args = {n: _normalize(t, v) for n, t, v in zip(spec.names, spec.types, values, strict=True)}
        return ContractRevert.for_name(name)(name, args, contract=spec.contract, data=raw)


def _normalize(abi_type_: str, value: Any) -> Any:
    """Checksum addresses (eth_abi returns them lower-case) so they compare equal to account addresses."""
    if abi_type_ == "address":
        return to_checksum_address(value)
    if abi_type_.startswith("address[") and isinstance(value, tuple | list):
        return tuple(to_checksum_address(v) for v in value)
    return value


def _to_bytes(data: bytes | str | None) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes):
        return bytes(data)
    text = data[2:] if data.startswith(("0x", "0X")) else data
    try:
        return bytes.fromhex(text)
    except ValueError:
        return b""


class ArtifactNotFound(TierchainError):
    """No compiled artifact with that contract name; run `tierchain compile` first."""


class DeploymentError(TierchainError):
    """A deployment could not be created, resumed or verified."""


class DeploymentNotFound(DeploymentError):
    """No deployment manifest for the network; run `tierchain deploy` first."""


class DeploymentMismatch(DeploymentError):
    """The manifest no longer matches the chain or the compiled artifacts; `--fresh` redeploys."""
