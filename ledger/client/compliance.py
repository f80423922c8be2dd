"""The compliance policy (docs/compliance.md): the deployment's policy and its per-obligor overrides,
enterprise size classes, and each obligor's overdue record. Policy changes are governance actions
(`tierchain gov propose set-policy ...`); the size class is recorded by the onboarding key."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import IntEnum
from typing import Any

from ledger.client.base import ClientBase, checksum
from ledger.client.models import TxResult
from ledger.keys import Signer

DAY = 86_400


class SizeClass(IntEnum):
    """`IParticipantRegistry.SizeClass`: 大型 / 中型 / 小型 / 微型 under the national classification."""

    UNCLASSIFIED = 0
    LARGE = 1
    MEDIUM = 2
    SMALL = 3
    MICRO = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int) -> SizeClass:
        """`large`, `medium`, `small`, `micro` (or 大型, 中型, 小型, 微型, or 1-4)."""
        if isinstance(value, int):
            return cls(value)
        text = value.strip()
        by_name = {c.label: c for c in cls if c is not cls.UNCLASSIFIED}
        by_name.update({"大型": cls.LARGE, "中型": cls.MEDIUM, "小型": cls.SMALL, "微型": cls.MICRO})
        found = by_name.get(text.lower()) or by_name.get(text)
        if found is None:
            raise ValueError(f"size class {value!r} is not one of large, medium, small, micro")
        return found


SIZE_CLASS_ZH = {
    SizeClass.UNCLASSIFIED: "未划型",
    SizeClass.LARGE: "大型",
    SizeClass.MEDIUM: "中型",
    SizeClass.SMALL: "小型",
    SizeClass.MICRO: "微型",
}


@dataclass(frozen=True, kw_only=True)
class Policy:
    """`IParticipantRegistry.Policy`, durations in seconds."""

    max_tenor_seconds: int
    long_tenor_seconds: int
    sme_payment_term_seconds: int
    max_depth: int
    min_unit: int
    trade_background: bool
    is_set: bool

    @classmethod
    def from_abi(cls, raw: Any) -> Policy:
        return cls(
            max_tenor_seconds=int(raw[0]),
            long_tenor_seconds=int(raw[1]),
            sme_payment_term_seconds=int(raw[2]),
            max_depth=int(raw[3]),
            min_unit=int(raw[4]),
            trade_background=bool(raw[5]),
            is_set=bool(raw[6]),
        )

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body.update(
            max_tenor_days=self.max_tenor_seconds / DAY,
            long_tenor_days=self.long_tenor_seconds / DAY,
            sme_payment_term_days=self.sme_payment_term_seconds / DAY,
        )
        return body


@dataclass(frozen=True, kw_only=True)
class ObligorRecord:
    """`IParticipantRegistry.ObligorRecord`: the last three overdue strikes (unix seconds, 0 when none,
    newest last), every overdue ever counted, and the end of a suspension (0 when none)."""

    strikes: tuple[int, int, int]
    overdue_count: int
    suspended_until: int

    def suspended_at(self, now: int) -> bool:
        return self.suspended_until > now


@dataclass(frozen=True, kw_only=True)
class SizeClassSet(TxResult):
    account: str
    previous: SizeClass
    current: SizeClass


class ComplianceOps(ClientBase):
    def default_policy(self) -> Policy:
        return Policy.from_abi(self._view(self.registry, "defaultPolicy"))

    def policy_of(self, obligor: str) -> Policy:
        """The policy that applies to `obligor`'s obligations: its override, or the deployment's."""
        return Policy.from_abi(self._view(self.registry, "policyOf", checksum(obligor)))

    def size_class(self, account: str) -> SizeClass:
        return SizeClass(int(self._view(self.registry, "sizeClassOf", checksum(account))))

    def set_size_class(
        self, onboarding: Signer, account: str, size_class: SizeClass | str | int, *, key: str | None = None
    ) -> SizeClassSet:
        """Record `account`'s size class (the ONBOARDING key, or governance)."""
        cls = size_class if isinstance(size_class, SizeClass) else SizeClass.parse(size_class)
        receipt = self._send(onboarding, self.registry, "setSizeClass", checksum(account), int(cls), key=key)
        event = self._event(receipt, self.registry, "SizeClassSet")
        return SizeClassSet(
            **self._meta(receipt),
            account=event["account"],
            previous=SizeClass(int(event["previous"])),
            current=SizeClass(int(event["current"])),
        )

    def obligor_record(self, obligor: str) -> ObligorRecord:
        raw = self._view(self.registry, "obligorRecord", checksum(obligor))
        return ObligorRecord(
            strikes=(int(raw[0]), int(raw[1]), int(raw[2])),
            overdue_count=int(raw[3]),
            suspended_until=int(raw[4]),
        )
