"""The catalogue of governable actions: what operators may propose, each as one contract call.

Every action is a small frozen pydantic model whose fields are the action's arguments, validated
when it is built (`parse_action("set-threshold", {"threshold": 3})`): an error names the action and
the argument at fault. `encode` turns an action into the call the timelock will make (target
contract by manifest name, ABI-encoded calldata); `decode_call` turns a proposal's call back into
the catalogue's name and arguments, so listings read as the operators wrote them.

The class of an action (admin: 48 h, policy: 24 h on besu-qbft) is what the timelock holds for the
call's selector on-chain (`functionDelay`); `SPEC_CLASS` is the design's table, the default the
deployment writes into the timelock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from ledger.errors import TierchainError
from ledger.governance.operations import OP_ALL, operation_bits, operation_names
from ledger.roles import DEFAULT_ADMIN_ROLE

ActionClass = Literal["admin", "policy"]

UPGRADEABLE = (
    "ParticipantRegistry",
    "TradeRegistry",
    "ReceivableToken",
    "IssuanceDesk",
    "FinancingDesk",
    "RepaymentDesk",
)
UpgradeableName = Literal[
    "ParticipantRegistry",
    "TradeRegistry",
    "ReceivableToken",
    "IssuanceDesk",
    "FinancingDesk",
    "RepaymentDesk",
]
GOVERNANCE_CONTRACTS = ("OperatorSeats", "TierchainTimelock", "TierchainGovernor")

# Roles governance grants and revokes (the registry's DEFAULT_ADMIN_ROLE administers them). The
# participant roles CORE_ENTERPRISE, SUPPLIER and BANK belong to the onboarding key instead, and
# DESK is bound once at deployment.
GOVERNED_ROLES: dict[str, bytes] = {
    "DEFAULT_ADMIN_ROLE": DEFAULT_ADMIN_ROLE,
    **{n: keccak(text=n) for n in ("REGULATOR", "ORACLE", "ENFORCEMENT", "GUARDIAN", "ONBOARDING", "POLICY")},
}
ONBOARDING_ROLES = ("CORE_ENTERPRISE", "SUPPLIER", "BANK")
_ROLE_ALIASES = {"DEFAULT_ADMIN": "DEFAULT_ADMIN_ROLE", "ADMIN": "DEFAULT_ADMIN_ROLE"}


class ActionError(TierchainError, ValueError):
    """An action or one of its arguments is not acceptable; the message names which."""


def governed_role_name(role: str | bytes) -> str | None:
    """The catalogue name of a governed role given by name or id, else None."""
    if isinstance(role, bytes):
        return next((n for n, r in GOVERNED_ROLES.items() if r == role), None)
    name = role.strip().upper()
    name = _ROLE_ALIASES.get(name, name)
    return name if name in GOVERNED_ROLES else None


def _role(value: str) -> str:
    name = governed_role_name(value)
    if name is not None:
        return name
    upper = value.strip().upper()
    if upper in ONBOARDING_ROLES:
        raise ValueError(
            f"{upper} is granted and revoked by the onboarding key at once "
            "(participant registration), not through governance"
        )
    if upper == "DESK":
        raise ValueError("DESK is bound to the desk contracts once, at deployment; it is never granted")
    raise ValueError(f"unknown role {value!r}; governed roles: {', '.join(GOVERNED_ROLES)}")


def _address(value: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise ValueError(f"{value!r} is not an address (0x and 40 hex digits)")
    if int(value, 16) == 0:
        raise ValueError("the zero address is not acceptable here")
    return str(to_checksum_address(value))


def _operations(value: Any) -> int:
    try:
        bits = operation_bits(value)
    except ValueError as exc:
        raise ValueError(str(exc).removeprefix("operations: ")) from exc
    if not 1 <= bits <= OP_ALL:
        raise ValueError(f"{value!r} names no operation")
    return bits


def _selector(value: str) -> str:
    """A function given as 0x-selector, signature ("setThreshold(uint8)") or catalogue action name."""
    text = value.strip()
    if text in ACTION_SIGNATURES:
        text = ACTION_SIGNATURES[text]
    if "(" in text:
        if not text.endswith(")") or " " in text:
            raise ValueError(f"{value!r} is not a function signature like 'setThreshold(uint8)'")
        return "0x" + keccak(text=text)[:4].hex()
    raw = text.removeprefix("0x")
    if len(raw) != 8 or not all(c in "0123456789abcdefABCDEF" for c in raw):
        raise ValueError(
            f"{value!r} is not a selector (0x and 8 hex digits), a signature or an action name "
            f"({', '.join(ACTION_SIGNATURES)})"
        )
    return "0x" + raw.lower()


Address = Annotated[str, AfterValidator(_address)]
Role = Annotated[str, AfterValidator(_role)]
Operations = Annotated[int, BeforeValidator(_operations)]
Selector = Annotated[str, AfterValidator(_selector)]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    target: ClassVar[str]
    signature: ClassVar[str]

    def target_contract(self) -> str:
        """The manifest name of the contract the timelock calls."""
        return self.target

    def call_args(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def encode(self) -> bytes:
        """Selector and ABI-encoded arguments of the call."""
        types = _argument_types(self.signature)
        return keccak(text=self.signature)[:4] + abi_encode(types, list(self.call_args()))

    def arguments(self) -> dict[str, Any]:
        """The arguments as JSON-ready values (what `tierchain gov status` shows)."""
        return self.model_dump(exclude={"action"})


class GrantRole(_Action):
    """Grant a governed role (REGULATOR, ORACLE, ENFORCEMENT, GUARDIAN, ONBOARDING, POLICY, admin)."""

    action: Literal["grant-role"] = "grant-role"
    role: Role
    account: Address
    target: ClassVar[str] = "ParticipantRegistry"
    signature: ClassVar[str] = "grantRole(bytes32,address)"

    def call_args(self) -> tuple[Any, ...]:
        return (GOVERNED_ROLES[self.role], self.account)


class RevokeRole(GrantRole):
    """Revoke a governed role."""

    action: Literal["revoke-role"] = "revoke-role"  # type: ignore[assignment]
    signature: ClassVar[str] = "revokeRole(bytes32,address)"


class SetStatus(_Action):
    """Suspend or reactivate a participant governance administers (an oracle or a regulator); the
    onboarding key sets the status of trading parties itself."""

    action: Literal["set-status"] = "set-status"
    account: Address
    status: Literal["active", "suspended"]
    target: ClassVar[str] = "ParticipantRegistry"
    signature: ClassVar[str] = "setStatus(address,uint8)"

    def call_args(self) -> tuple[Any, ...]:
        return (self.account, 1 if self.status == "active" else 2)


class SetThreshold(_Action):
    """Set M, the oracle signatures an attestation needs (at most the active oracles)."""

    action: Literal["set-threshold"] = "set-threshold"
    threshold: int = Field(ge=1, le=255)
    target: ClassVar[str] = "TradeRegistry"
    signature: ClassVar[str] = "setThreshold(uint8)"

    def call_args(self) -> tuple[Any, ...]:
        return (self.threshold,)


class SetCurrency(_Action):
    """Map an ISO 4217 code to its settlement ERC-20 (write-once per code)."""

    action: Literal["set-currency"] = "set-currency"
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. CNY")
    token: Address
    target: ClassVar[str] = "IssuanceDesk"
    signature: ClassVar[str] = "setCurrency(bytes3,address)"

    def call_args(self) -> tuple[Any, ...]:
        return (self.currency.encode("ascii"), self.token)


class SetBaseUri(_Action):
    """Set the token metadata base URI (empty clears it)."""

    action: Literal["set-base-uri"] = "set-base-uri"
    uri: str = Field(max_length=2048)
    target: ClassVar[str] = "ReceivableToken"
    signature: ClassVar[str] = "setBaseURI(string)"

    def call_args(self) -> tuple[Any, ...]:
        return (self.uri,)


class Unpause(_Action):
    """Resume paused operations (issuance, moves, financing, repayment, or all)."""

    action: Literal["unpause"] = "unpause"
    operations: Operations
    reason: str = Field(min_length=1, max_length=1024)
    target: ClassVar[str] = "ParticipantRegistry"
    signature: ClassVar[str] = "unpause(uint8,string)"

    def call_args(self) -> tuple[Any, ...]:
        return (self.operations, self.reason)

    def arguments(self) -> dict[str, Any]:
        return {"operations": operation_names(self.operations), "reason": self.reason}


class Upgrade(_Action):
    """Point one of the six proxies at a new implementation (`upgradeToAndCall(newImpl, "")`)."""

    action: Literal["upgrade"] = "upgrade"
    contract: UpgradeableName
    implementation: Address
    target: ClassVar[str] = "<proxy>"
    signature: ClassVar[str] = "upgradeToAndCall(address,bytes)"

    def target_contract(self) -> str:
        return self.contract

    def call_args(self) -> tuple[Any, ...]:
        return (self.implementation, b"")


class Seat(_Action):
    """Give an operator key a seat (one vote) in OperatorSeats."""

    action: Literal["seat"] = "seat"
    operator: Address
    target: ClassVar[str] = "OperatorSeats"
    signature: ClassVar[str] = "seat(address)"

    def call_args(self) -> tuple[Any, ...]:
        return (self.operator,)


class Unseat(Seat):
    """Take an operator's seat away."""

    action: Literal["unseat"] = "unseat"  # type: ignore[assignment]
    signature: ClassVar[str] = "unseat(address)"


class SetApprovals(_Action):
    """Set M, the seats whose approval passes a proposal (1..seat count)."""

    action: Literal["set-approvals"] = "set-approvals"
    approvals: int = Field(ge=1, le=2**32)
    target: ClassVar[str] = "TierchainGovernor"
    signature: ClassVar[str] = "setApprovalsRequired(uint256)"

    def call_args(self) -> tuple[Any, ...]:
        return (self.approvals,)


class SetFunctionDelay(_Action):
    """Set the timelock delay of one function (selector, signature or action name)."""

    action: Literal["set-function-delay"] = "set-function-delay"
    function: Selector
    delay_seconds: int = Field(ge=0, le=10 * 365 * 86_400)
    target: ClassVar[str] = "TierchainTimelock"
    signature: ClassVar[str] = "setFunctionDelay(bytes4,uint256)"

    def call_args(self) -> tuple[Any, ...]:
        return (bytes.fromhex(self.function[2:]), self.delay_seconds)


_POLICY_TUPLE = "(uint32,uint32,uint32,uint16,uint48,bool,bool)"


POLICY_FIELDS = (
    "max_tenor_days",
    "long_tenor_days",
    "sme_payment_term_days",
    "max_depth",
    "min_unit",
    "trade_background",
)


class SetPolicy(_Action):
    """Set the deployment's compliance policy (docs/compliance.md), with a recorded reason. A field left
    out keeps its current value: the governance client fills it from the chain before proposing."""

    action: Literal["set-policy"] = "set-policy"
    max_tenor_days: int | None = Field(default=None, ge=1, le=365)
    long_tenor_days: int | None = Field(default=None, ge=1, le=365)
    sme_payment_term_days: int | None = Field(default=None, ge=1, le=365)
    max_depth: int | None = Field(default=None, ge=1, le=65_535)
    min_unit: int | None = Field(default=None, ge=1, le=2**48 - 1)
    trade_background: bool | None = None
    reason: str = Field(min_length=1, max_length=1024)
    target: ClassVar[str] = "ParticipantRegistry"
    signature: ClassVar[str] = f"setPolicy({_POLICY_TUPLE},string)"

    def missing(self) -> list[str]:
        """The policy fields not given (to be filled from the current policy)."""
        return [f for f in POLICY_FIELDS if getattr(self, f) is None]

    def completed(self, current: Sequence[Any]) -> SetPolicy:
        """This action with every field left out taken from `current` (`IParticipantRegistry.Policy`)."""
        day = 86_400
        now = {
            "max_tenor_days": int(current[0]) // day,
            "long_tenor_days": int(current[1]) // day,
            "sme_payment_term_days": int(current[2]) // day,
            "max_depth": int(current[3]),
            "min_unit": int(current[4]),
            "trade_background": bool(current[5]),
        }
        if any(int(current[i]) % day for i in range(3)):
            raise ActionError(
                f"{self.action}: the current policy has a term that is not whole days; give every field"
            )
        return self.model_copy(update={f: now[f] for f in self.missing()})

    def policy_tuple(self) -> tuple[int, int, int, int, int, bool, bool]:
        if self.missing():
            raise ActionError(
                f"{self.action}: {', '.join(self.missing())} not given; the governance client fills fields "
                "left out from the chain's current policy"
            )
        assert self.max_tenor_days is not None and self.long_tenor_days is not None
        assert self.sme_payment_term_days is not None and self.max_depth is not None
        assert self.min_unit is not None and self.trade_background is not None
        if self.long_tenor_days > self.max_tenor_days:
            raise ActionError(f"{self.action}: long_tenor_days may not exceed max_tenor_days")
        if self.sme_payment_term_days > self.max_tenor_days:
            raise ActionError(f"{self.action}: sme_payment_term_days may not exceed max_tenor_days")
        day = 86_400
        return (
            self.max_tenor_days * day,
            self.long_tenor_days * day,
            self.sme_payment_term_days * day,
            self.max_depth,
            self.min_unit,
            self.trade_background,
            True,
        )

    def call_args(self) -> tuple[Any, ...]:
        return (self.policy_tuple(), self.reason)


class SetObligorPolicy(SetPolicy):
    """Give one core enterprise a policy of its own, replacing the deployment's for its obligations."""

    action: Literal["set-obligor-policy"] = "set-obligor-policy"  # type: ignore[assignment]
    obligor: Address
    signature: ClassVar[str] = f"setObligorPolicy(address,{_POLICY_TUPLE},string)"

    def call_args(self) -> tuple[Any, ...]:
        return (self.obligor, self.policy_tuple(), self.reason)


class ClearObligorPolicy(_Action):
    """Remove a core enterprise's own policy: the deployment's applies again."""

    action: Literal["clear-obligor-policy"] = "clear-obligor-policy"
    obligor: Address
    reason: str = Field(min_length=1, max_length=1024)
    target: ClassVar[str] = "ParticipantRegistry"
    signature: ClassVar[str] = "clearObligorPolicy(address,string)"

    def call_args(self) -> tuple[Any, ...]:
        return (self.obligor, self.reason)


class LiftSuspension(ClearObligorPolicy):
    """Lift an obligor's suspension for persistent overdue before its two years end, with a reason."""

    action: Literal["lift-suspension"] = "lift-suspension"  # type: ignore[assignment]
    signature: ClassVar[str] = "liftSuspension(address,string)"


class SetBillPolicy(_Action):
    """The deployment's bill mode (签收) default and acceptance window, with a reason; obligations keep the
    mode they were created with, and each core enterprise may choose for its own."""

    action: Literal["set-bill-policy"] = "set-bill-policy"
    bill_mode: bool
    acceptance_window_seconds: int = Field(ge=1, le=365 * 86_400)
    reason: str = Field(min_length=1, max_length=1024)
    target: ClassVar[str] = "ParticipantRegistry"
    signature: ClassVar[str] = "setBillPolicy(bool,uint256,string)"

    def call_args(self) -> tuple[Any, ...]:
        return (self.bill_mode, self.acceptance_window_seconds, self.reason)


Action = Annotated[
    GrantRole
    | RevokeRole
    | SetStatus
    | SetThreshold
    | SetCurrency
    | SetBaseUri
    | Unpause
    | Upgrade
    | Seat
    | Unseat
    | SetApprovals
    | SetFunctionDelay
    | SetPolicy
    | SetObligorPolicy
    | ClearObligorPolicy
    | LiftSuspension
    | SetBillPolicy,
    Field(discriminator="action"),
]
ActionName = Literal[
    "grant-role",
    "revoke-role",
    "set-status",
    "set-threshold",
    "set-currency",
    "set-base-uri",
    "unpause",
    "upgrade",
    "seat",
    "unseat",
    "set-approvals",
    "set-function-delay",
    "set-policy",
    "set-obligor-policy",
    "clear-obligor-policy",
    "lift-suspension",
    "set-bill-policy",
]
ACTIONS: dict[str, type[_Action]] = {
    c.model_fields["action"].default: c
    for c in (
        GrantRole,
        RevokeRole,
        SetStatus,
        SetThreshold,
        SetCurrency,
        SetBaseUri,
        Unpause,
        Upgrade,
        Seat,
        Unseat,
        SetApprovals,
        SetFunctionDelay,
        SetPolicy,
        SetObligorPolicy,
        ClearObligorPolicy,
        LiftSuspension,
        SetBillPolicy,
    )
}
ACTION_SIGNATURES: dict[str, str] = {name: cls.signature for name, cls in ACTIONS.items()}
SPEC_CLASS: dict[str, ActionClass] = {
    name: "policy"
    if name
    in (
        "set-threshold",
        "set-currency",
        "set-base-uri",
        "unpause",
        "set-policy",
        "set-obligor-policy",
        "clear-obligor-policy",
        "set-bill-policy",
    )
    else "admin"
    for name in ACTIONS
}
_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)


def parse_action(name: str, arguments: Mapping[str, Any]) -> Action:
    """Build one action from its catalogue name and arguments; `ActionError` names what is wrong."""
    if name not in ACTIONS:
        raise ActionError(f"unknown action {name!r}; known: {', '.join(ACTIONS)}")
    try:
        return _ADAPTER.validate_python({**arguments, "action": name})
    except ValidationError as exc:
        raise ActionError(f"{name}: {_problems(exc)}") from exc


def _problems(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"][1:]]  # [0] is the discriminator's tag
        where = ".".join(loc) or "arguments"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "not an argument of this action"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


# ----------------------------------------------------------------------------- calls


@dataclass(frozen=True)
class Call:
    """One call of a proposal: target by manifest name and address, calldata, and what it means."""

    contract: str
    target: str
    data: bytes
    action: Action | None  # None: a call outside the catalogue (shown by selector)

    @property
    def selector(self) -> bytes:
        return self.data[:4]

    @property
    def name(self) -> str:
        return self.action.action if self.action is not None else "0x" + self.data[:4].hex()


def encode(action: Action, addresses: Mapping[str, str]) -> Call:
    """The call `action` makes; `addresses` maps manifest names to addresses."""
    contract = action.target_contract()
    if contract not in addresses:
        raise ActionError(f"{action.action}: this deployment has no {contract} contract")
    return Call(contract, str(to_checksum_address(addresses[contract])), action.encode(), action)


def encode_all(actions: Sequence[Action], addresses: Mapping[str, str]) -> list[Call]:
    if not actions:
        raise ActionError("a proposal needs at least one action")
    return [encode(a, addresses) for a in actions]


def _argument_types(signature: str) -> list[str]:
    """The argument types of `signature`, split at top-level commas (tuples stay whole)."""
    inner = signature[signature.index("(") + 1 : -1]
    types, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            types.append(inner[start:i])
            start = i + 1
    types.append(inner[start:])
    return [t for t in types if t]


_BY_SELECTOR: dict[bytes, list[type[_Action]]] = {}
for _cls in ACTIONS.values():
    _BY_SELECTOR.setdefault(keccak(text=_cls.signature)[:4], []).append(_cls)


def decode_call(target: str, data: bytes, addresses: Mapping[str, str]) -> Call:
    """The catalogue action a proposal's call stands for, or a call with `action=None`."""
    by_address = {a.lower(): n for n, a in addresses.items()}
    contract = by_address.get(target.lower(), target)
    for cls in _BY_SELECTOR.get(bytes(data[:4]), []):
        if cls.target not in (contract, "<proxy>") or (cls is Upgrade and contract not in UPGRADEABLE):
            continue
        try:
            values = abi_decode(_argument_types(cls.signature), bytes(data[4:]))
            action = _from_values(cls, contract, values)
        except (DecodingError, ValueError, OverflowError):
            continue
        return Call(contract, str(to_checksum_address(target)), bytes(data), action)
    return Call(contract, str(to_checksum_address(target)), bytes(data), None)


def _from_values(cls: type[_Action], contract: str, values: tuple[Any, ...]) -> Action:
    name = cls.model_fields["action"].default
    args: dict[str, Any]
    if cls in (GrantRole, RevokeRole):
        role = governed_role_name(bytes(values[0]))
        args = {"role": role or "0x" + bytes(values[0]).hex(), "account": values[1]}
    elif cls is SetStatus:
        statuses = {1: "active", 2: "suspended"}
        if values[1] not in statuses:
            raise ValueError(f"status {values[1]} is neither active nor suspended")
        args = {"account": values[0], "status": statuses[values[1]]}
    elif cls is SetThreshold:
        args = {"threshold": values[0]}
    elif cls is SetCurrency:
        args = {"currency": bytes(values[0]).decode("ascii"), "token": values[1]}
    elif cls is SetBaseUri:
        args = {"uri": values[0]}
    elif cls is Unpause:
        args = {"operations": values[0], "reason": values[1]}
    elif cls is Upgrade:
        if values[1]:
            raise ValueError("an upgrade with an initializer call is outside the catalogue")
        args = {"contract": contract, "implementation": values[0]}
    elif cls in (SetPolicy, SetObligorPolicy):
        offset = 1 if cls is SetObligorPolicy else 0
        p = values[offset]
        day = 86_400
        if any(int(x) % day for x in p[:3]):
            raise ValueError("a policy duration that is not whole days is outside the catalogue")
        args = {
            "max_tenor_days": p[0] // day,
            "long_tenor_days": p[1] // day,
            "sme_payment_term_days": p[2] // day,
            "max_depth": p[3],
            "min_unit": p[4],
            "trade_background": p[5],
            "reason": values[offset + 1],
        }
        if cls is SetObligorPolicy:
            args["obligor"] = values[0]
    elif cls in (ClearObligorPolicy, LiftSuspension):
        args = {"obligor": values[0], "reason": values[1]}
    elif cls in (Seat, Unseat):
        args = {"operator": values[0]}
    elif cls is SetApprovals:
        args = {"approvals": values[0]}
    elif cls is SetBillPolicy:
        args = {"bill_mode": values[0], "acceptance_window_seconds": values[1], "reason": values[2]}
    else:
        args = {"function": "0x" + bytes(values[0]).hex(), "delay_seconds": values[1]}
    return parse_action(name, args)
